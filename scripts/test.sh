#!/usr/bin/env bash
# Install everything (see setup.sh) and run every check, failing on any:
#  1. import-linter: the layers (ui on top; zh, events, errors at the bottom), Qt only in
#     assist/ui, the knowledge base importing nothing of the engine (pyproject.toml);
#  2. mypy on assist/ (settings in pyproject.toml; strict for the small bottom modules);
#  3. the whole test suite: engine, store, real vosk on speech from espeak-ng, real capture
#     through a PulseAudio null sink (the audio tests start it), the Qt panel offscreen and
#     once in a real window under Xvfb, the built wheel outside the checkout, and the
#     PyInstaller bundle (built once, then run).
# Then score the engine on the labelled dev sets when ../shared/eval is there (optional).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
echo "test: import contracts (lint-imports)"
.venv/bin/lint-imports --no-cache
echo "test: types (mypy assist/)"
.venv/bin/mypy
echo "test: test suite"
.venv/bin/python -m pytest -q "$@"
echo "test: desktop bundle (build with scripts/bundle.sh, then run it)"
.venv/bin/python -m pytest -q -m bundle tests/test_bundle.py
if [ -f ../shared/eval/score.py ]; then
  .venv/bin/python ../shared/eval/score.py | tail -n 1
fi
