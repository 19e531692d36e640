#!/usr/bin/env bash
# Installs the build into a temporary prefix with `cmake --install`, then configures, builds and
# runs examples/cpp-consumer against it: find_package(metadial) and metadial::metadial work for a
# C++ user. Arguments (from tests/CMakeLists.txt): the metadial binary, the source folder, the
# build folder.
set -euo pipefail
src="$2"
build="$3"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/metadial-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in include/metadial/study/study.h lib/libmetadial.a lib/cmake/metadial/metadialConfig.cmake \
         lib/cmake/metadial/metadialConfigVersion.cmake lib/cmake/metadial/metadialTargets.cmake bin/metadial; do
  [ -e "$tmp/prefix/$f" ] || { echo "install_test: $f is not installed"; cat "$tmp/install.log"; exit 1; }
done
# A consumer must not need the source or build tree: nothing installed points back into them.
if grep -rlF -e "$src/" -e "$build" "$tmp/prefix/lib/cmake/metadial"; then
  echo "install_test: the installed package config refers to the source or build folder"; exit 1
fi

cmake -S "$src/examples/cpp-consumer" -B "$tmp/consumer" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/consumer" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
out=$("$tmp/consumer/consumer")
echo "$out"
[[ "$out" == "trials 50 best "* ]] || { echo "install_test: unexpected output"; exit 1; }
"$tmp/prefix/bin/metadial" --version >/dev/null
echo "install_test: ok"
