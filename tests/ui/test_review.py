"""Session review over the real store after a demo call."""


def _run_demo(qtbot, ctl):
    marks = []
    ctl.demo_mark.connect(lambda i, m: marks.append(m))
    assert ctl.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)
    ctl.player.resume()
    qtbot.waitUntil(lambda: not ctl.in_call, timeout=15000)


def test_review_lists_and_opens_the_demo_session(qtbot, demo, panel, tmp_path):
    from assist.ui.review import ReviewWindow

    _run_demo(qtbot, demo)
    sid = panel.session_id
    assert demo.recorder.wait_saved()  # the recorder writes on its own thread
    win = ReviewWindow(demo.store, kb=demo.kb, recorder=demo.recorder)
    qtbot.addWidget(win)
    win.refresh()
    assert sid in win.session_ids()
    row = win.session_ids().index(sid)
    assert win.table.item(row, 5).text().startswith("1")  # one warning (columns: 日期 时长 坐席 案件 话术 警告 状态)
    win.table.selectRow(row)
    assert win.session_id == sid
    html = win.transcript.toPlainText()
    assert "转到我个人账户" in html and "⚠" in html
    assert "问答：" in html and "提示话术" in html
    summary = win.summary_view.toPlainText()
    assert "还款承诺" in summary and "10000" in summary

    win.notes.setPlainText("回访：两天后确认一万元到账")
    win.save_notes()  # queued on the recorder: written on its thread
    assert win.wait_saved()
    assert demo.store.get_notes(sid) == "回访：两天后确认一万元到账"
    qtbot.waitUntil(lambda: win.notes_state.text() == "已保存 ✓", timeout=5000)

    out = win.export_to(tmp_path / "call.md", "markdown")
    assert (out.stat().st_mode & 0o777) == 0o600
    text = out.read_text(encoding="utf-8")
    assert sid in text and "回访" in text


def test_review_without_store_shows_banner(qtbot):
    from assist.ui.review import ReviewWindow

    win = ReviewWindow(None, error="disk on fire")
    qtbot.addWidget(win)
    win.show()
    win.refresh()
    assert win.notice.isVisible() and "disk on fire" in win.notice.message.text()


def test_review_shows_the_post_call_check_with_evidence(qtbot, demo, panel):
    from assist.ui.review import ReviewWindow

    _run_demo(qtbot, demo)
    sid = panel.session_id
    win = ReviewWindow(demo.store, kb=demo.kb)
    qtbot.addWidget(win)
    win.refresh()
    win.table.selectRow(win.session_ids().index(sid))
    text = win.compliance_view.toPlainText()
    assert "合规复查" in text and "通话对象" in text
    # the demo's personal-account line is a finding, with its place in the call and its words
    assert "要求转账到个人账户" in text and "第 " in text and "转到我个人账户" in text


def test_post_call_view_without_kb_says_what_to_do():
    from assist.ui.post_call_view import post_call_html

    assert "assist kb check" in post_call_html(None, {"utterances": []})
