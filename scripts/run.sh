#!/usr/bin/env bash
# Install everything (see setup.sh) and run assist's demo call: the real engine,
# session store and side panel, no microphone or model needed. On a machine with no
# display the panel runs under Xvfb and a screenshot is saved to demo-panel.png.
# Then the recorded call is shown as the agent reviews it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  .venv/bin/assist demo "$@"
else
  echo "run: 这台机器没有显示器，演示在 Xvfb 里运行（截图保存为 demo-panel.png）"
  xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/assist demo --fast --screenshot demo-panel.png --quit-after 20 "$@"
fi
# the demo records into its own store (demo-sessions.db), never among the agent's real calls
latest=$(.venv/bin/python -c "from assist.store import demo_db_path, open_store; s = open_store(demo_db_path()).list_sessions(1); print(s[0]['id'] if s else '')")
if [ -n "$latest" ]; then
  echo "run: 刚才的演示通话记录（assist sessions --demo show $latest）："
  .venv/bin/assist sessions --demo show "$latest"
fi
