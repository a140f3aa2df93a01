#!/usr/bin/env bash
# Install everything assist needs on a Debian/Ubuntu machine, as root or with sudo:
# system packages (PortAudio, PulseAudio, espeak-ng, sox, Xvfb, CJK fonts, Qt's X11
# libraries), then a virtual environment in .venv with the package and its Python
# dependencies. With --test, also the test tools and the Korean vosk model used by
# the tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: run as root or install sudo (system packages are needed)" >&2; exit 1; fi
fi

APT_PACKAGES=(
  python3 python3-venv python3-pip
  libportaudio2 pulseaudio pulseaudio-utils espeak-ng sox xvfb xauth fonts-noto-cjk
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xinerama0
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python 3.11 or newer is needed ($("$PY" --version 2>&1) found); set PYTHON=/path/to/python3.11" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
echo "setup: installing Python packages into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
if [ $want_test = 1 ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,semantic]"
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[semantic]"
fi
echo "setup: done"
