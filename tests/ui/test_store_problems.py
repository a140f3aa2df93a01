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


def test_how_the_key_is_kept_is_said_once_per_machine_and_never_in_the_demo(qtbot, private_dirs, tmp_path):
    """The file-kept key's advice (no system keyring here) is for whoever sets the machine up."""
    from PySide6.QtCore import QSettings

    from assist.ui.app import CallController
    from assist.ui.panel import Panel

    settings = QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)

    def notice_kind(demo: bool) -> str | None:
        panel = Panel(settings=settings)
        qtbot.addWidget(panel)
        ctl = CallController(panel, demo=demo)
        try:
            qtbot.waitUntil(lambda: ctl.store_settled, timeout=15000)
            assert ctl.store is not None and ctl.store.key_warning  # the suite keeps keys in a file
            return panel.notice.kind if panel.notice.isVisibleTo(panel) else None
        finally:
            ctl.shutdown()
            ctl.store.close()

    assert notice_kind(demo=True) is None
    assert notice_kind(demo=False) == "store"
    assert notice_kind(demo=False) is None  # the same advice again: not on every start
