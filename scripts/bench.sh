#!/usr/bin/env bash
# The benchmarks: install newsearch with its bench extras (tantivy, ir-measures) into .venv
# and run bench/ with timings on. Extra arguments go to pytest; NEWSEARCH_BENCH_QUICK=1 runs a
# small smoke version (what CI does). Results: the terminal, bench/out/results*.md.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,bench]"
# The whole bench/ folder unless a file or folder is named.
targets=(bench)
for arg in "$@"; do
  if [[ "$arg" != -* && -e "${arg%%::*}" ]]; then targets=(); break; fi
done
exec .venv/bin/python -m pytest "${targets[@]}" -p no:cacheprovider --benchmark-enable "$@"
