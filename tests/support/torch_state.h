// Helpers for tests that check the library leaves LibTorch's process-wide state alone.
#pragma once

#include <torch/torch.h>

namespace metadial::testing {

/// A copy of the state of torch's default CPU generator (what torch::manual_seed sets and
/// torch::rand draws from): equal before and after an operation that neither reseeds it nor draws.
inline torch::Tensor global_generator_state() { return at::detail::getDefaultCPUGenerator().get_state(); }

}  // namespace metadial::testing
