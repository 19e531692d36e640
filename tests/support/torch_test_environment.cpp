// Linked into every torch test binary (tests/CMakeLists.txt, METADIAL_TORCH_TEST_MODULES): the
// test binary is the program that owns the process, so it sets LibTorch's threads, once, before
// the first test, as `metadial`'s main() does. The library itself never sets them. One intra-op
// thread: the networks under test are small, and ctest runs several test binaries at once.
//
// Registered from a static initializer: this object file is linked into the executable directly
// (not through a static library), so it cannot be dropped by the linker.
#include <gtest/gtest.h>

#include "metadial/nn/threads.h"

namespace {

class TorchThreads : public ::testing::Environment {
 public:
  void SetUp() override { metadial::nn::set_torch_threads(1); }
};

[[maybe_unused]] ::testing::Environment* const kTorchThreads =
    ::testing::AddGlobalTestEnvironment(new TorchThreads);  // gtest owns and deletes it

}  // namespace
