"""The review window while another program holds the store's write lock: notes typed there are queued
on the recorder (no write runs on the GUI thread), the window keeps handling events and says in Chinese
that the notes wait; an export is refused in Chinese (its audit row cannot be written) without a file;
once the lock goes the notes are in the store, the window says 已保存, and the export works."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

from PySide6.QtCore import QTimer

from assist.events import AssistResult, CallEnded, CallStarted, Utterance
from assist.store import SessionRecorder, open_store

from .test_panel_writes_locked import LOCKER


def test_review_notes_and_export_never_write_on_the_gui_thread_while_locked(qtbot, tmp_path):
    from assist.ui.review import ReviewWindow

    store = open_store(tmp_path / "data" / "sessions.db")
    rec = SessionRecorder(store)
    rec(CallStarted(session_id="rev00001", playbook_id="changjiang_extension", started_at=1795435200.0))
    rec(AssistResult(utterance=Utterance("customer", "下周五前还3000元", start=0.0, end=2.0)))
    rec(CallEnded("rev00001", 1795435260.0))
    assert rec.wait_saved()

    win = ReviewWindow(store, recorder=rec)
    qtbot.addWidget(win)
    win.show()
    win.refresh()
    assert win.open_session("rev00001")

    threads: list[str] = []
    original = store._write

    def write(fn):  # every write transaction, by the thread that ran it
        threads.append(threading.current_thread().name)
        return original(fn)
    store._write = write

    ticks = [0]  # the GUI thread's event loop keeps running while the store is locked
    timer = QTimer(win, interval=20)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()

    out = tmp_path / "call.md"
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(store.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert locker.stdout.readline().strip() == "locked", locker.stderr.read()
        qtbot.keyClicks(win.notes, "callback ")
        win.notes.insertPlainText("客户说周五前还三千")
        assert win.notes_state.text() == "编辑中…"
        win.save_notes()
        qtbot.waitUntil(lambda: "暂存" in win.notes_state.text(), timeout=15000)
        assert win.notes_state.text().startswith("未保存")
        assert store.get_notes("rev00001") == ""
        seen = ticks[0]
        win.start_export(out, "markdown")
        qtbot.waitUntil(lambda: win.notice.isVisible() and win.notice.kind == "export", timeout=20000)
        assert ticks[0] > seen
        said = win.notice.message.text()
        assert "导出失败" in said and "占用" in said and "locked" not in said
        assert not out.exists()  # nothing handed out without its audit row
        # another session opened and this one re-opened: the waiting text is shown, not the stored one
        assert win.open_session("rev00001")
        assert win.notes.toPlainText() == "callback 客户说周五前还三千"
        assert win.notes_state.text().startswith("未保存")
    finally:
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(30)
    qtbot.waitUntil(lambda: win.notes_state.text() == "已保存 ✓", timeout=15000)
    assert store.get_notes("rev00001") == "callback 客户说周五前还三千"
    win.start_export(out, "markdown")
    qtbot.waitUntil(lambda: win.notes_state.text().startswith("已导出到"), timeout=20000)
    assert "客户说周五前还三千" in out.read_text(encoding="utf-8")
    assert [a["action"] for a in store.audit_entries()].count("export") == 1
    assert threads and "MainThread" not in threads
    assert set(threads) <= {"assist-recorder", "assist-review-export"}
    rec.close()
    store.close()
