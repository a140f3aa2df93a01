#!/usr/bin/env bash
# Install everything (see setup.sh) and run the whole test suite: engine, store,
# real vosk on speech from espeak-ng, real capture through a PulseAudio null sink
# (the audio tests start it), the Qt panel offscreen and once in a real window under
# Xvfb. Then score the engine on the labelled dev sets when ../shared/eval is there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
.venv/bin/python -m pytest -q "$@"
if [ -f ../shared/eval/score.py ]; then
  .venv/bin/python ../shared/eval/score.py | tail -n 1
fi
