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
