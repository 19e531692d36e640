#!/usr/bin/env bash
# Trains the shipped PFN surrogate of the `pfn` sampler (issue 14, part 4), models/pfn.pt and its
# card models/pfn.json, with the project's own command: one CPU thread, 60 minutes of wall clock on
# a shared 2-core machine (a checkpoint in --out every 5 minutes; --init models/pfn.pt continues a
# stopped run, and the card counts every run's iterations and seconds).
#   bench/repro/pfn_train.sh [BUILD_DIR]      (default build/release)
# Prior: the learned optimizers' default families (meta/pfn_trainer.h; listed in the card): half
# GP samples (RBF / Matern-5/2, lengthscale 0.05..0.5 x sqrt(d), anisotropy 3), half sums of 1..8
# Gaussian bumps on a 0.05 GP background; d uniform in 1..6, 2..60 history points, 48 queries.
# Network: 4 pre-norm transformer blocks, width 64, 4 heads, feed-forward 128 (135k parameters).
set -euo pipefail
BIN=${1:-build/release}/bin/metadial
MINUTES=${MINUTES:-60}
nice -n 10 $BIN meta-train pfn --out models/pfn.pt --minutes $MINUTES --checkpoint-minutes 5 --seed 1 --threads 1
