#!/bin/sh
# A tiny external objective for `metadial tune` (see examples/command_quadratic.toml).
#
#   usage: quadratic.sh --x VALUE --y VALUE [--steps N]
#
# Pretends to train for N steps (default 5): prints `intermediate: <step> <value>` lines that
# approach the final value (so pruners have something to act on), then
# `objective: <(x - 0.3)^2 + (y + 0.1)^2>`. The minimum is 0 at x = 0.3, y = -0.1.
# metadial reads the LAST `objective:` line on stdout; anything else is just logged.
set -eu

usage() {
  echo "usage: $0 --x VALUE --y VALUE [--steps N]" >&2
  exit 2
}

x=""
y=""
steps=5
while [ $# -gt 0 ]; do
  case "$1" in
    --x) [ $# -ge 2 ] || usage; x="$2"; shift 2 ;;
    --y) [ $# -ge 2 ] || usage; y="$2"; shift 2 ;;
    --steps) [ $# -ge 2 ] || usage; steps="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "quadratic.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$x" ] && [ -n "$y" ] || usage

# awk does the floating-point arithmetic (and rejects nothing: check the inputs are numbers).
awk -v x="$x" -v y="$y" -v steps="$steps" 'BEGIN {
  if (x !~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ ||
      y !~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/) {
    print "quadratic.sh: --x and --y must be numbers, got x=" x " y=" y > "/dev/stderr"
    exit 2
  }
  f = (x - 0.3) ^ 2 + (y + 0.1) ^ 2
  for (k = 1; k <= steps; k++) printf "intermediate: %d %.17g\n", k, f + 1.0 / k
  printf "objective: %.17g\n", f
}'
