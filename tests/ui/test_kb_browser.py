"""The KB browser on the real bundled KB, and on a copy in tmp_path that an edit breaks and fixes.

The KB loads on a worker thread (the window paints first), so each test waits for it.
"""
import shutil

from assist.knowledge import default_kb_dir


def _loaded(qtbot, watcher):
    qtbot.waitUntil(lambda: watcher.settled, timeout=15000)


def _ready(qtbot, browser):
    """The KB loaded and its search index built (both on workers)."""
    qtbot.waitUntil(lambda: browser.settled, timeout=15000)


def test_zq_finds_zhanqi(qtbot):
    from assist.ui.kb_browser import KbBrowser

    b = KbBrowser()
    qtbot.addWidget(b)
    _ready(qtbot, b)
    b.show()
    qtbot.keyClicks(b.query, "zq")
    qtbot.waitUntil(lambda: bool(b.hits) and b.count.text().startswith("找到"), timeout=3000)
    assert any("展期" in h.title or "展期" in h.text for h in b.hits[:5])
    assert "展期" in b.card.toPlainText()
    b.copy_answer()
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == b.hits[b.current_row()].text


def test_filter_by_playbook_and_tag(qtbot):
    from assist.ui.kb_browser import KbBrowser

    b = KbBrowser()
    qtbot.addWidget(b)
    _ready(qtbot, b)
    everything = len(b.hits)
    b.playbook_box.setCurrentIndex(b.playbook_box.findData("changjiang_extension"))
    assert 0 < len(b.hits) < everything
    assert all(not h.playbooks or "changjiang_extension" in h.playbooks for h in b.hits)
    if b.tag_box.count() > 1:
        b.tag_box.setCurrentIndex(1)
        tag = b.tag_box.currentData()
        assert all(tag in h.tags for h in b.hits)


def _break(kb_dir):
    f = sorted((kb_dir / "faqs").glob("*.yaml"))[0]
    good = f.read_text(encoding="utf-8")
    f.write_text(good + "\n  - id: [unclosed\n", encoding="utf-8")
    return f, good


def test_broken_kb_shows_banner_not_crash(qtbot, tmp_path):
    from assist.ui.kb_browser import KbBrowser

    kb_dir = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), kb_dir)
    _break(kb_dir)
    b = KbBrowser(kb_dir=kb_dir)
    qtbot.addWidget(b)
    _ready(qtbot, b)
    b.show()
    assert b.notice.isVisible() and b.notice.kind == "kb"
    assert "faqs" in b.notice.message.text()
    assert b.hits == []


def test_edit_reloads_and_bad_edit_keeps_last_good_kb(qtbot, tmp_path):
    from assist.ui.kb_browser import KbBrowser

    kb_dir = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), kb_dir)
    b = KbBrowser(kb_dir=kb_dir)
    qtbot.addWidget(b)
    _ready(qtbot, b)
    b.show()
    first = b.kb
    assert first is not None and not b.notice.isVisible()

    f, good = _break(kb_dir)
    qtbot.waitUntil(lambda: b.notice.isVisible(), timeout=5000)
    assert b.kb is first, "a broken edit must keep the last good KB"
    assert b.hits, "the browser keeps working on the last good KB"

    f.write_text(good.replace("申请展期后征信会受影响吗？", "展期以后征信会受影响吗？"), encoding="utf-8")
    qtbot.waitUntil(lambda: not b.notice.isVisible(), timeout=5000)
    assert b.kb is not first
    b.query.setText("展期以后征信")
    b.run_search()
    assert b.hits and b.hits[0].title == "展期以后征信会受影响吗？"


def test_panel_shows_kb_error_with_fix(qtbot, tmp_path, panel):
    from assist.ui.app import CallController

    kb_dir = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), kb_dir)
    _break(kb_dir)
    ctl = CallController(panel, kb_dir=kb_dir, open_store=False, demo=True, demo_fast=True)
    _loaded(qtbot, ctl.kb_watcher)
    assert panel.notice.isVisible() and panel.notice.kind == "kb"
    assert "assist kb check" in panel.notice.fix.text()
    assert ctl.start("") is False  # no KB at all: refuse with the banner, don't crash


def test_every_entry_listed_and_rules_browsable_with_examples(qtbot):
    from assist.ui.kb_browser import KbBrowser

    b = KbBrowser()
    qtbot.addWidget(b)
    _ready(qtbot, b)
    kb = b.kb
    n_lines = sum(len(st.lines) for pb in kb.playbooks.values() for st in pb.stages)
    assert b.model.rowCount() == len(kb.faqs) + len(kb.rules) + n_lines  # no cap
    b.kind_box.setCurrentIndex(b.kind_box.findData("rule"))
    assert b.model.rowCount() == len(kb.rules) and all(h.kind == "rule" for h in b.hits)
    rule = next(r for r in kb.rules if r.triggers)
    row = next(i for i, h in enumerate(b.hits) if h.id == rule.id)
    b.results.setCurrentIndex(b.model.index(row))
    card = b.card.toPlainText()
    assert rule.triggers[0] in card and "会被提醒的说法" in card and rule.message in card
    assert "《" in card  # the source by document title
    assert rule.id not in card


def test_card_shows_no_ids_or_editors_notes(qtbot):
    from assist.ui.kb_browser import KbBrowser

    b = KbBrowser()
    qtbot.addWidget(b)
    _ready(qtbot, b)
    for row, h in enumerate(b.hits):
        b.results.setCurrentIndex(b.model.index(row))
        card = b.card.toPlainText()
        assert "seed" not in card.lower() and "编者注" not in card, h.title
        assert h.id not in card, h.title
        faq = next((f for f in b.kb.faqs if f.id == h.id), None)
        if faq is not None and faq.note:
            assert faq.note not in card


def test_typing_pinyin_updates_the_list(qtbot):
    from assist.ui.kb_browser import KbBrowser

    b = KbBrowser()
    qtbot.addWidget(b)
    _ready(qtbot, b)
    b.show()
    qtbot.keyClicks(b.query, "huankuan")
    qtbot.waitUntil(lambda: b.count.text().startswith("找到"), timeout=3000)
    assert b.hits and ("还款" in b.hits[0].title or "还款" in b.hits[0].text)
    b.query.setText("😀")
    b.run_search()
    assert b.model.rowCount() == len(b.searcher.entries)  # nothing searchable: everything, no hang


def test_index_builds_on_a_worker_and_the_newest_kb_wins(qtbot):
    import dataclasses
    import threading

    from assist.ui.kb_browser import KbBrowser

    b = KbBrowser()
    qtbot.addWidget(b)
    _ready(qtbot, b)
    kb = b.kb
    builders: list[str] = []
    original = b._build_index

    def spy(generation, new_kb):
        builders.append(threading.current_thread().name)
        original(generation, new_kb)

    b._build_index = spy
    older = dataclasses.replace(kb, faqs=kb.faqs[:3])
    newer = dataclasses.replace(kb, faqs=kb.faqs[:5])
    b.set_kb(older)
    b.set_kb(newer)
    qtbot.waitUntil(lambda: b.settled, timeout=15000)
    qtbot.wait(200)  # the older build may finish last: it must not replace the newer one
    assert b.kb is newer
    assert all(name != threading.main_thread().name for name in builders)
    b.kind_box.setCurrentIndex(b.kind_box.findData("faq"))
    assert b.model.rowCount() == 5
