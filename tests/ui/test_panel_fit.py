"""The panel fits an office screen: at 1366×768 and 1280×720, 100/125/150 % scaling, light and dark,
the warning, the answer card and the next-line card are fully visible without scrolling, nothing clips.

With two warnings pending (a call started at 22:30 also breaks the calling-hours rule) the banner
shows the critical one in full and the other as a count line, and everything still fits.

Each case runs tests/ui/panel_fit_probe.py in its own process (QT_SCALE_FACTOR must be set before Qt
starts): the real panel, docked on that screen, at the demo call's marked moment.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("panel_fit_probe.py")
CASES = [("1366", "768", "1", "light"), ("1366", "768", "1.25", "dark"), ("1366", "768", "1.5", "light"),
         ("1366", "768", "1.5", "dark"), ("1280", "720", "1", "dark"), ("1280", "720", "1.25", "light"),
         ("1280", "720", "1.5", "dark")]


TWO_WARNINGS = [("1366", "768", "1", "light"), ("1366", "768", "1.25", "dark"), ("1366", "768", "1.5", "light"),
                ("1280", "720", "1.5", "dark")]


def _probe(tmp_path, width, height, scale, theme, *extra):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale,
           "ASSIST_DATA_DIR": str(tmp_path), "ASSIST_CONFIG_DIR": str(tmp_path / "config")}
    out = subprocess.run([sys.executable, str(PROBE), width, height, theme, *extra], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("width,height,scale,theme", CASES)
def test_panel_fits(width, height, scale, theme, tmp_path):
    r = _probe(tmp_path, width, height, scale, theme)
    assert r["panel"][1] <= r["avail_h"], r  # not taller than the screen
    assert r["warning"] and r["answer"] and r["next_line"], r
    assert r["clipped"] == [], r


@pytest.mark.parametrize("width,height,scale,theme", TWO_WARNINGS)
def test_panel_fits_with_two_warnings_pending(width, height, scale, theme, tmp_path):
    r = _probe(tmp_path, width, height, scale, theme, "--at", "22:30")
    assert r["warnings"] == 2, r  # the demo's critical warning and the calling-hours one
    assert r["shown"] == "critical" and r["count_line"], r  # the other collapsed to one count line
    assert r["panel"][1] <= r["avail_h"], r
    assert r["warning"] and r["answer"] and r["next_line"], r
    assert r["clipped"] == [], r
