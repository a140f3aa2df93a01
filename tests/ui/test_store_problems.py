"""The panel opens and says why in Chinese when the session store cannot be used (no traceback)."""

import pytest


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


class _LockedKeyring:
    def get_password(self, *_):
        raise RuntimeError("the keyring is locked")

    def set_password(self, *_):
        raise RuntimeError("the keyring is locked")


def _future_version(db_path, monkeypatch):
    from assist.store import open_store
    from assist.store.connection import open_keyed
    from assist.store.keys import load_keys
    from assist.store import driver
    from assist.store.migrations import SCHEMA_VERSION

    open_store(db_path).close()
    conn, _ = open_keyed(lambda: driver.connect_encrypted(str(db_path)), load_keys().current)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.commit()
    conn.close()


def _locked_keyring(db_path, monkeypatch):
    from assist.store import keys, open_store

    open_store(db_path).close()
    monkeypatch.setattr(keys, "_secure_keyring", lambda: _LockedKeyring())


@pytest.mark.parametrize("make, said, fix", [
    (_future_version, "比当前的 assist", "升级 assist"),
    (_locked_keyring, "无法读取系统密钥环", "解锁系统密钥环"),
])
def test_the_panel_opens_with_the_stores_own_fix_and_leaves_the_records_alone(qtbot, private_dirs, monkeypatch,
                                                                             make, said, fix):
    """A store from a newer assist, a keyring that will not give the key: the banner names the cause and
    the fix that helps (not the data-folder advice), the panel works, the file is exactly as it was."""
    from assist.ui.app import CallController
    from assist.ui.panel import Panel

    db_path = private_dirs / "sessions.db"
    make(db_path, monkeypatch)
    before = db_path.read_bytes()
    panel = Panel(settings=None)
    qtbot.addWidget(panel)
    ctl = CallController(panel)
    try:
        qtbot.waitUntil(lambda: ctl.store_settled, timeout=15000)
        assert ctl.store is None
        assert panel.notice.kind == "store"
        assert said in panel.notice.message.text()
        shown_fix = panel.notice.fix.text()
        assert fix in shown_fix and "不会被保存" in shown_fix and "数据目录" not in shown_fix
        qtbot.waitUntil(lambda: ctl.kb_watcher.settled, timeout=30000)
        assert ctl.kb is not None  # live assistance is there; only recording is off
    finally:
        ctl.shutdown()
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith("sessions.db")) == ["sessions.db"]
