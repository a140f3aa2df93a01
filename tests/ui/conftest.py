"""Fixtures for the Qt tests: offscreen Qt, a private data/config dir per test, a demo-call controller.

QT_QPA_PLATFORM must be set before Qt is imported anywhere, hence at the top.
"""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Real SQLite store and config in tmp_path; never the developer's own sessions."""
    data = tmp_path / "data"
    monkeypatch.setenv("ASSIST_DATA_DIR", str(data))
    monkeypatch.setenv("ASSIST_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("ASSIST_KB", raising=False)
    # The panel builds the KB's sentence vectors on a worker after each KB load: the shipped
    # KB costs tens of seconds of encoding cold, which every panel test would start anew.
    # Off here; tests/ui/test_semantic_panel.py turns it on for a small KB.
    monkeypatch.setenv("ASSIST_ENCODER", "none")
    return data


@pytest.fixture
def panel(qtbot):
    from assist.ui.panel import Panel

    p = Panel(settings=None)
    qtbot.addWidget(p)
    p.resize(420, 1000)
    p.show()
    return p


@pytest.fixture
def demo(qtbot, panel, tmp_path):
    """A panel wired to a controller that plays the demo call fast, pausing at the marked line.

    The demo call starts now, whatever the hour; the shipped KB's calling-hours rule (08:00–21:00)
    would add a warning to it in the evening. The tests are about the call's content, so they run
    on a copy of the KB whose calling hours cover the whole day.
    """
    import re
    import shutil

    from assist.knowledge import default_kb_dir
    from assist.ui.app import CallController

    kb_dir = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), kb_dir)
    for f in (kb_dir / "rules").glob("*.yaml"):
        text = f.read_text(encoding="utf-8")
        text = re.sub(r'start: "\d\d:\d\d"', 'start: "00:00"', text)
        f.write_text(re.sub(r'end: "\d\d:\d\d"', 'end: "23:59"', text), encoding="utf-8")
    ctl = CallController(panel, kb_dir=kb_dir, demo=True, demo_fast=True, pause_on_mark=True)
    # the KB loads and the store opens on worker threads
    qtbot.waitUntil(lambda: ctl.kb_watcher.settled and ctl.store_settled, timeout=15000)
    yield ctl
    ctl.shutdown()
    if ctl.store is not None:
        ctl.store.close()
