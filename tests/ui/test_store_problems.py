"""The panel opens and says why in Chinese when the session store cannot be used (no traceback)."""


def test_the_panel_opens_and_says_why_when_the_store_cannot(qtbot, tmp_path, monkeypatch):
    from assist.ui.app import CallController
    from assist.ui.panel import Panel

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("ASSIST_DATA_DIR", str(blocker))  # the data folder is a file: nothing can be created
    panel = Panel(settings=None)
    qtbot.addWidget(panel)
    ctl = CallController(panel)
    try:
        qtbot.waitUntil(lambda: ctl.store_settled, timeout=15000)  # the store opens on a worker thread
        assert ctl.store is None
        assert panel.notice.kind == "store" and "通话记录库" in panel.notice.message.text()
        assert "不会被保存" in panel.notice.fix.text()
    finally:
        ctl.shutdown()


def test_the_panel_opens_on_a_damaged_store_and_names_the_salvage_command(qtbot, private_dirs):
    from assist.ui.app import CallController
    from assist.ui.panel import Panel

    private_dirs.mkdir(parents=True, exist_ok=True)
    (private_dirs / "sessions.db").write_bytes(b"\x13" * 8192)
    panel = Panel(settings=None)
    qtbot.addWidget(panel)
    ctl = CallController(panel)
    try:
        qtbot.waitUntil(lambda: ctl.store_settled, timeout=15000)  # the store opens on a worker thread
        assert ctl.store is not None  # a new store: the call is recorded
        assert panel.notice.kind == "store"
        text = panel.notice.message.toolTip()
        assert "已损坏" in text and "assist sessions recover" in text
    finally:
        ctl.shutdown()
        ctl.store.close()
