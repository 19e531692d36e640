// LibTorch's thread pools are process-wide state. The metadial library never changes them on its
// own (a Python process that imports torch and metadial keeps its settings; two studies run with
// --jobs do not race on them): the program that owns the process sets them, once, at start-up.
// `metadial` (src/cli/main.cpp), the bench/repro drivers and the torch test binaries
// (tests/support/torch_test_environment.cpp) do; a program embedding the library decides itself.
//
// Header free of torch includes, so that a main() can include it cheaply.
#pragma once

namespace metadial::nn {

/// Sets LibTorch's intra-op thread count to `intra_op` for the whole process. Call once, from
/// main() (or a test binary's environment), before any torch work; the library never calls it.
/// metadial's networks are small, so 1 is the usual choice: parallelism comes from running
/// trials, seeds or folds on threads. Throws InvalidArgument unless intra_op >= 1.
void set_torch_threads(int intra_op);

/// LibTorch's current intra-op thread count (what set_torch_threads() set, or its default).
int torch_threads();

}  // namespace metadial::nn
