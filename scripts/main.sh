#!/usr/bin/env bash
# The main job on a fresh machine: install newsearch into .venv, index corpus/ into index/,
# then run a search. Safe to re-run (the second index run is incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
.venv/bin/newsearch index corpus/
.venv/bin/newsearch search "Almaty"     # finds the English and the Russian (Алматы) stories
