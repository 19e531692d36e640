# The two commands of the README. Each one installs what is missing, builds, then runs.
#   make demo   the main job: tunes a DQN dialogue policy (epsilon, h1, h2) on the simulated user
#               with the learned multi-fidelity LSTM optimizer (lstm-mf) and, at the same cost,
#               with GP-BO, storing both studies in demo.db (SQLite), then retrains the default
#               and both tuned configurations on fresh seeds and prints their success and reward
#   make test   builds and runs every test through CTest
# Also:
#   make bench  builds, then runs every micro-benchmark and every reproduction driver in its
#               quick-check mode (bench/run_all.sh; outputs in bench/results/quick/, git-ignored)
#   make python builds the Python module `import metadial` into build/release/python (python/;
#               `make test` builds it too and runs its pytest suite through CTest)
#   make test-asan  the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (build/asan)
.PHONY: deps build python demo test test-asan bench clean

JOBS ?= 2
# The LibTorch code is compiled with a precompiled header (cmake/torch.cmake); ccache caches those
# compilations only with this sloppiness (without it, about 100 of the build's 160 compilations,
# 80 % of its time, are "uncacheable"). An environment setting: it does not change the build's
# command lines, so an existing build folder is not rebuilt for it.
CCACHE_SLOPPINESS ?= pch_defines,time_macros
export CCACHE_SLOPPINESS

deps:
	@scripts/setup-deps

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

python: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target python

demo: build
	rm -f demo.db demo.db-wal demo.db-shm
	./build/release/bin/metadial tune examples/dqn_restaurant.toml --storage sqlite:demo.db --study demo
	./build/release/bin/metadial tune examples/dqn_restaurant_gp.toml --storage sqlite:demo.db --study demo-gp
	./build/release/bin/metadial dialog compare examples/dqn_restaurant.toml --storage sqlite:demo.db --study demo --versus demo-gp --seeds 10

test: build
	ctest --preset release

test-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

bench: build
	bench/run_all.sh build/release

clean:
	rm -rf build
