"""Notes and acknowledgements typed in the panel while another program holds the store's lock:
the GUI thread only queues them (it never runs a write on SQLite), the panel says they wait in the
journal, and once the lock goes they are in the store and the panel says 已保存."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

from PySide6.QtCore import Qt

LOCKER = textwrap.dedent("""
    import sys
    from assist.store import driver
    from assist.store.connection import open_keyed
    from assist.store.keys import load_keys
    conn, _ = open_keyed(lambda: driver.connect_encrypted(sys.argv[1], timeout=5.0, check_same_thread=False),
                         load_keys().current)
    conn.isolation_level = None
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
""")


def test_notes_and_acknowledgement_never_write_on_the_gui_thread_while_locked(qtbot, demo, panel):
    marks = []
    demo.demo_mark.connect(lambda i, m: marks.append(m))
    assert demo.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    sid, store = panel.session_id, demo.store
    assert demo.recorder.wait_saved()
    assert panel.warning_banner.isVisible()

    threads: list[str] = []
    original = store._write

    def write(fn):  # every write transaction, by the thread that ran it
        threads.append(threading.current_thread().name)
        return original(fn)
    store._write = write

    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(store.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert locker.stdout.readline().strip() == "locked", locker.stderr.read()
        qtbot.mouseClick(panel.warning_banner.ack_button, Qt.MouseButton.LeftButton)
        panel.notes.setFocus()
        qtbot.keyClicks(panel.notes, "callback ")
        panel.notes.insertPlainText("客户承诺周五还款")
        panel.flush_notes()
        # the panel hears, through the signal, that the notes wait in the journal (not lost, not saved yet)
        qtbot.waitUntil(lambda: "暂存" in panel.notes_state.text(), timeout=10000)
        assert panel.notes_state.text().startswith("未保存")
        assert store.get_notes(sid) == ""
    finally:
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(30)
    qtbot.waitUntil(lambda: panel.notes_state.text() == "已保存 ✓", timeout=10000)
    assert demo.recorder.wait_saved()
    assert store.get_notes(sid) == "callback 客户承诺周五还款"
    acked = [r for r in store.warnings(sid) if r["acknowledged"]]
    assert len(acked) == 1 and "个人账户" in acked[0]["said"]
    assert threads and "MainThread" not in threads and set(threads) == {"assist-recorder"}
