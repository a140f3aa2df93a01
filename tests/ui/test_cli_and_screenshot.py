"""The real app under Xvfb (a subprocess), and CLI usage errors."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assist.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_demo_under_xvfb_saves_a_real_screenshot(tmp_path):
    assert shutil.which("xvfb-run"), "xvfb is a system dependency of the test suite (apt-get install xvfb)"
    shot = tmp_path / "panel.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    proc = subprocess.run(
        ["xvfb-run", "-a", sys.executable, "-m", "assist", "demo", "--fast", "--screenshot", str(shot),
         "--quit-after", "6"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.exists()
    from PySide6.QtGui import QImage

    img = QImage(str(shot))
    assert not img.isNull() and img.width() >= 300 and img.height() >= 600
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 50, "screenshot looks blank"


def test_a_screenshot_the_call_never_reaches_is_a_failure_not_a_silent_success(tmp_path):
    """run.sh relies on this: no screenshot must never look like a good run."""
    call = tmp_path / "call.jsonl"
    call.write_text('{"speaker": "agent", "text": "您好，请问是张强先生吗？", "start": 0.2, "end": 1.5}\n',
                    encoding="utf-8")
    shot = tmp_path / "panel.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    proc = subprocess.run(
        ["xvfb-run", "-a", sys.executable, "-m", "assist", "demo", "--fast", "--demo-file", str(call),
         "--screenshot", str(shot), "--quit-after", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert not shot.exists()
    assert "没有保存截图" in proc.stderr


@pytest.mark.parametrize("argv, message", [
    (["demo", "--speed", "0"], "--speed"),
    (["demo", "--quit-after", "-1"], "--quit-after"),
    (["demo", "--screenshot", "/no/such/dir/x.png"], "不存在"),
    (["demo", "--kb", "/no/such/kb"], "没有这个文件夹"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_review_unknown_id_is_a_usage_error(capsys):
    assert main(["review", "zzzz-not-there"]) == 2
    assert "zzzz-not-there" in capsys.readouterr().err


def test_stepper_states_pure():
    from assist.ui.stepper import stage_states

    assert stage_states(5, 4, (1, 3)) == ["done", "skipped", "done", "current", "todo"]
    assert stage_states(3, None, ()) == ["todo"] * 3
