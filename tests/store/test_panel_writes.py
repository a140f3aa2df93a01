"""The panel's own writes (notes, acknowledgements, "used" marks, agent and case id) go through the
recorder's queue like utterances: the caller only enqueues (SQLite is touched on the writer thread
alone), a store locked by another process journals them, and all of them are in the store once the
lock goes; a write whose row is not stored yet waits for the session's next utterances."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

from assist.store import SessionRecorder, open_store

# another process holding the store's write lock until told to let go (as in test_faults.py)
LOCKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from conftest import raw_connection
    conn = raw_connection(sys.argv[1])
    conn.isolation_level = None
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
""")


def _watch_writes(store) -> list[str]:
    """Every write transaction on the store, by the name of the thread that ran it."""
    threads: list[str] = []
    original = store._write

    def write(fn):
        threads.append(threading.current_thread().name)
        return original(fn)
    store._write = write
    return threads


def _lock(db_path):
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db_path), os.path.dirname(__file__)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert locker.stdout.readline().strip() == "locked", locker.stderr.read()
    return locker


def _unlock(locker):
    locker.stdin.write("\n")
    locker.stdin.flush()
    locker.wait(30)


def test_panel_writes_only_enqueue_and_reach_the_store_after_a_lock(db_path, ev):
    store = open_store(db_path)
    rec = SessionRecorder(store)
    said = "不还钱就抓你去坐牢"
    rec(ev.started("p1"))
    rec(ev.final(said, speaker="agent", start=1.0, warnings=[ev.warning(said, "抓你去坐牢")],
                 suggestions=[ev.suggestion("您好，我是长江分期的客服")]))
    rec(ev.final("能不能延期还款", start=4.0, faq=[ev.faq()]))
    assert rec.wait_saved()
    threads = _watch_writes(store)
    done: list[tuple[bool, str]] = []
    locker = _lock(db_path)
    try:
        # what the GUI thread calls: each returns having only queued a record
        assert rec.save_notes("p1", "客户承诺 两天内还 13812345678", on_done=lambda *a: done.append(a))
        assert rec.acknowledge("p1", "false_criminal_threat", "agent-1.0")
        assert rec.mark_used("p1", "faq", "f-extend")
        assert rec.mark_used("p1", "line", "您好，我是长江分期的客服")
        assert rec.set_identity("p1", "A007", "CASE-42")
        assert rec.flush()  # durable already: in the journal, since the store is locked
        assert store.get_notes("p1") == ""  # nothing reached the store while it was locked
        assert done and done[0][0] is False and "暂存" in done[0][1]
    finally:
        _unlock(locker)
    assert rec.wait_saved()
    assert threads and set(threads) == {"assist-recorder"}  # never the caller's thread
    assert done[-1] == (True, "")
    session = store.get_session("p1")
    assert session["notes"].startswith("客户承诺 两天内还") and "13812345678" not in session["notes"]  # masked
    assert (session["agent_id"], session["case_id"]) == ("A007", "CASE-42")
    [warning] = store.warnings("p1")
    assert warning["acknowledged"] == 1 and warning["acknowledged_at"]
    assert [h["used"] for h in store.faq_hits("p1")] == [1]
    assert [s["used"] for s in store.suggestions("p1")] == [1]
    assert rec.close() == 0
    store.close()


def test_an_acknowledgement_before_its_final_waits_for_it(store, ev):
    """The agent acknowledges a warning shown on a partial: stored once the final is."""
    rec = SessionRecorder(store)
    said = "再不还就上门找你家人"
    rec(ev.started("p2"))
    assert rec.acknowledge("p2", "false_criminal_threat", "agent-2.0")
    assert rec.acknowledge("p2", "false_criminal_threat", "agent-9.0")  # a warning the engine withdrew
    assert rec.mark_used("p2", "faq", "f-extend")  # copied from a partial too
    rec(ev.final(said, speaker="agent", start=2.0, warnings=[ev.warning(said, "上门找你家人")]))
    rec(ev.final("嗯", speaker="agent", start=9.0))  # the final of that segment: no warning in it
    rec(ev.final("能不能延期还款", start=12.0, faq=[ev.faq()]))
    assert rec.wait_saved()
    assert [w["acknowledged"] for w in store.warnings("p2")] == [1]
    assert [h["used"] for h in store.faq_hits("p2")] == [1]
    assert rec._unmatched == []  # the withdrawn one was given up, not kept forever
    rec.close()


def test_an_acknowledgement_journalled_before_its_final_is_applied_on_replay(db_path, ev):
    store = open_store(db_path)
    rec = SessionRecorder(store)
    rec(ev.started("p3"))
    assert rec.wait_saved()
    said = "不还钱就抓你去坐牢"
    locker = _lock(db_path)
    try:
        rec.acknowledge("p3", "false_criminal_threat", "agent-1.0")  # before the final, as on a partial
        rec(ev.final(said, speaker="agent", start=1.0, warnings=[ev.warning(said, "抓你去坐牢")]))
        assert rec.flush()  # both in the journal, in that order
        assert rec.spool_path.exists()
    finally:
        _unlock(locker)
    assert rec.wait_saved()
    assert [w["acknowledged"] for w in store.warnings("p3")] == [1]
    assert rec.close() == 0
    store.close()


def test_a_closed_recorder_refuses_panel_writes(store, ev):
    rec = SessionRecorder(store)
    rec.close()
    assert not rec.save_notes("p4", "x")
    assert not rec.acknowledge("p4", "r", "s")
