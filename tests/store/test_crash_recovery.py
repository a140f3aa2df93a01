"""kill -9 of a recording process: everything committed before it survives; the next open marks it interrupted."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from assist.store import open_store

WRITER = textwrap.dedent("""
    import sys, time
    from assist.events import AssistResult, CallStarted, Utterance
    from assist.store import SessionRecorder, open_store

    store = open_store(sys.argv[1])
    rec = SessionRecorder(store)
    rec(CallStarted(session_id="crash01", playbook_id="changjiang_extension", started_at=time.time()))
    n = 0
    while True:  # until killed
        n += 1
        rec(AssistResult(utterance=Utterance("customer", f"第{n}句 两天内先还一万", start=n, end=n + 0.5)))
        rec.flush()  # acknowledged: committed (or in the journal), not only queued
        print(n, flush=True)
        time.sleep(0.005)
""")


def _start_writer(db_path):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=os.getcwd())


def test_kill_9_loses_nothing_committed_and_next_open_marks_interrupted(db_path):
    proc = _start_writer(db_path)
    try:
        last = 0
        while last < 40:
            line = proc.stdout.readline()
            assert line, f"writer died: {proc.stderr.read()}"
            last = int(line)
        # while the writer lives, another process opening the store must not call it interrupted
        with open_store(db_path) as live_view:
            assert live_view.get_session("crash01")["status"] == "open"
            assert "crash01" not in live_view.interrupted_at_open
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # lines the child printed after our last read were committed too; read them all
    for line in proc.stdout.read().split():
        last = max(last, int(line))

    with open_store(db_path) as store:
        assert store.interrupted_at_open == ("crash01",)
        s = store.get_session("crash01")
        assert s["status"] == "interrupted"
        assert s["ended_at"] is not None and s["ended_at"] >= s["started_at"]
        texts = [u["text"] for u in store.utterances("crash01")]
        assert len(texts) >= last
        assert texts[:last] == [f"第{n}句 两天内先还一万" for n in range(1, last + 1)]
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # a second open finds nothing more to close
    with open_store(db_path) as again:
        assert again.interrupted_at_open == ()


def test_call_ended_interrupted_flag_is_kept(store, ev):
    from assist.store import SessionRecorder

    rec = SessionRecorder(store)
    rec(ev.started("cut01"))
    rec(ev.final("喂 你好"))
    rec(ev.ended("cut01", interrupted=True))
    assert rec.close() == 0
    assert store.get_session("cut01")["status"] == "interrupted"


def test_database_file_is_owner_only(store, db_path, ev):
    from assist.store import SessionRecorder

    rec = SessionRecorder(store)
    rec(ev.started())
    assert rec.close() == 0
    for p in (db_path, db_path.with_name("sessions.db-wal")):
        assert p.exists()
        assert (p.stat().st_mode & 0o777) == 0o600, p
