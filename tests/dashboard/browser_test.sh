#!/usr/bin/env bash
# The dashboard in a real browser (Debian's chromium, headless, driven by chromium-driver and
# python3-selenium; scripts/setup-deps installs them): see browser_check.py. Screenshots go to
# <build>/dashboard-browser/. Arguments: the metadial binary, the source folder, the build folder.
set -euo pipefail
for need in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$need" ] || { echo "browser_test: $need is missing; run scripts/setup-deps" >&2; exit 1; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { echo "browser_test: python3-selenium is missing; run scripts/setup-deps" >&2; exit 1; }
exec /usr/bin/python3 "$2/tests/dashboard/browser_check.py" "$(realpath "$1")" "$3"
