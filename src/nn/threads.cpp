#include "metadial/nn/threads.h"

#include <ATen/Parallel.h>

#include "metadial/core/error.h"

namespace metadial::nn {

void set_torch_threads(int intra_op) {
  MD_CHECK(intra_op >= 1, "torch threads: ", intra_op, " must be >= 1");
  at::set_num_threads(intra_op);
}

int torch_threads() { return at::get_num_threads(); }

}  // namespace metadial::nn
