#include "metadial/nn/threads.h"

#include <gtest/gtest.h>

#include "metadial/core/error.h"

namespace metadial::nn {
namespace {

// tests/support/torch_test_environment.cpp sets one thread for every torch test binary.
TEST(TorchThreads, TheTestEnvironmentSetsOneThread) { EXPECT_EQ(torch_threads(), 1); }

TEST(TorchThreads, SetsTheProcessWideCountAndRejectsLessThanOne) {
  set_torch_threads(2);
  EXPECT_EQ(torch_threads(), 2);
  set_torch_threads(1);
  EXPECT_EQ(torch_threads(), 1);
  EXPECT_THROW(set_torch_threads(0), InvalidArgument);
  EXPECT_EQ(torch_threads(), 1);
}

}  // namespace
}  // namespace metadial::nn
