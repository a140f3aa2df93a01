#!/bin/sh
# Save docs/panel.png: the side panel mid-call, playing the demo under a virtual X display.
# Needs xvfb (xvfb-run) and the CJK fonts (fonts-noto-cjk); uses a throw-away session store.
set -eu
cd "$(dirname "$0")/.."
out="${1:-docs/panel.png}"
mkdir -p "$(dirname "$out")"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
PY="${PYTHON:-.venv/bin/python}"
env -u QT_QPA_PLATFORM ASSIST_DATA_DIR="$data" \
    xvfb-run -a -s "-screen 0 1280x1000x24" "$PY" -m assist demo --fast --screenshot "$out" --quit-after 8
test -s "$out"
echo "wrote $out"
