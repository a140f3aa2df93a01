#!/usr/bin/env bash
# Install everything (see setup.sh) and run assist's demo call: the real engine,
# session store and side panel, no microphone or model needed. On a machine with no
# display it runs the panel under Xvfb, saves a screenshot to demo-panel.png and
# prints the call's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/assist demo "$@"
fi
echo "run: no display here; running the demo under Xvfb (screenshot: demo-panel.png)"
xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/assist demo --fast --screenshot demo-panel.png --quit-after 20 "$@"
