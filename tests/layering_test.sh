#!/usr/bin/env bash
# Checks the layering of DESIGN.md: a module includes only headers of its own layer or below.
# Order (low to high): core, space and nn (torch building blocks), study/trial.h, storage, objective, optim, study (engine), dashboard, cli.
# study/trial.h is the records part of study/ and sits below storage.
set -euo pipefail
root="$1"
cd "$root"
rank() {
  case "$1" in
    core) echo 0 ;; space) echo 1 ;; nn) echo 1 ;; trial) echo 2 ;; storage) echo 3 ;; objective) echo 4 ;;
    optim) echo 5 ;; meta) echo 6 ;; dialog) echo 6 ;; agents) echo 7 ;; train) echo 8 ;;
    online) echo 8 ;; transfer) echo 8 ;; study) echo 9 ;; dashboard) echo 10 ;; cli) echo 11 ;; *) echo 99 ;;
  esac
}
module_of_header() {  # metadial/<module>/... -> module (study/trial.h -> trial)
  local h="$1"
  if [[ "$h" == metadial/study/trial.h ]]; then echo trial; return; fi
  h="${h#metadial/}"; echo "${h%%/*}"
}
status=0
while IFS= read -r file; do
  rel="${file#include/metadial/}"; rel="${rel#src/}"
  mod="${rel%%/*}"
  [[ "$file" == */study/trial.h || "$file" == */study/trial.cpp ]] && mod=trial
  r=$(rank "$mod")
  while IFS= read -r inc; do
    m=$(module_of_header "$inc")
    if (( $(rank "$m") > r )); then
      echo "layering: $file ($mod) includes $inc ($m), a higher layer"
      status=1
    fi
  done < <(grep -oE '#include "metadial/[^"]+"' "$file" | sed -E 's/#include "([^"]+)"/\1/')
done < <(find include/metadial src -name '*.h' -o -name '*.cpp' | sort)
[ $status -eq 0 ] && echo "layering: ok"
exit $status
