#!/usr/bin/env bash
# The tests on a fresh machine: install newsearch with its test extras into .venv, run pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k analysis).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
exec .venv/bin/python -m pytest "$@"
