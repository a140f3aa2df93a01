"""Faults: a full disk or read-only database mid-call (buffered, reported, retried, nothing lost),
and a corrupt database file at start (set aside, new one started, clear message)."""
from __future__ import annotations

import os

from assist.events import DeviceProblem, StoreProblem
from assist.store import SessionRecorder, open_store

LONG = "客户说" + "我现在手头确实很紧张" * 60  # fills pages fast so the page cap bites


def _page_count(store):
    return store.db.execute("PRAGMA page_count").fetchone()[0]


def test_disk_full_mid_call_is_buffered_reported_once_and_saved_later(store, ev):
    problems: list[StoreProblem] = []
    rec = SessionRecorder(store, on_problem=problems.append)
    rec(ev.started("full01"))
    rec(ev.final("第0句", start=0.0))
    # SQLite's own page cap gives the same SQLITE_FULL error a full disk does
    store.db.execute(f"PRAGMA max_page_count = {_page_count(store)}")
    sent = ["第0句"]
    for i in range(1, 40):
        text = f"第{i}句 {LONG}"
        sent.append(text)
        rec(ev.final(text, start=float(i), warnings=[ev.warning(text, "手头")] if i == 5 else ()))
    rec(DeviceProblem(channel="customer", message="device lost", fix="plug it back"))
    assert len(problems) == 1, problems  # one report per outage, not one per utterance
    p = problems[0]
    assert not p.recovered and p.pending >= 1
    assert "full" in p.message and str(store.path) in p.message
    assert rec.pending >= 10  # the call went on; later utterances queued behind the failed one

    store.db.execute("PRAGMA max_page_count = 1073741823")  # space freed
    rec(ev.final("第40句", start=40.0))
    sent.append("第40句")
    assert rec.pending == 0
    assert problems[-1].recovered and problems[-1].pending == 0 and len(problems) == 2
    assert [u["text"] for u in store.utterances("full01")] == sent  # nothing lost, order kept
    assert len(store.warnings("full01")) == 1
    assert store.call_events("full01")[0]["message"] == "device lost"


def test_read_only_database_buffers_until_close_succeeds(store, ev):
    problems: list[StoreProblem] = []
    rec = SessionRecorder(store, on_problem=problems.append)
    rec(ev.started("ro01"))
    store.db.execute("PRAGMA query_only = 1")  # every write now fails: 'attempt to write a readonly database'
    for i in range(5):
        rec(ev.final(f"第{i}句", start=float(i)))
    rec(ev.ended("ro01"))
    assert rec.pending == 6
    assert [p.recovered for p in problems] == [False]
    assert "readonly" in problems[0].message
    assert store.utterances("ro01") == []  # really not written yet
    store.db.execute("PRAGMA query_only = 0")
    assert rec.close() == 0
    assert problems[-1].recovered
    assert [u["text"] for u in store.utterances("ro01")] == [f"第{i}句" for i in range(5)]
    assert store.get_session("ro01")["status"] == "ended"


def test_close_reports_what_could_not_be_saved(store, ev):
    problems: list[StoreProblem] = []
    rec = SessionRecorder(store, on_problem=problems.append)
    rec(ev.started("ro02"))
    store.db.execute("PRAGMA query_only = 1")
    rec(ev.final("说了什么"))
    assert rec.close() == 1
    assert problems[-1].pending == 1 and not problems[-1].recovered


def test_on_problem_may_publish_back_into_the_recorder(store, ev):
    # the app wires on_problem to Call.publish, which calls the recorder again: no deadlock
    seen = []
    rec = SessionRecorder(store)
    rec.on_problem = lambda p: (seen.append(p), rec(p))
    rec(ev.started("loop01"))
    store.db.execute("PRAGMA query_only = 1")
    rec(ev.final("一"))
    store.db.execute("PRAGMA query_only = 0")
    rec(ev.final("二", start=1.0))
    assert [p.recovered for p in seen] == [False, True]


def test_partials_are_not_stored(store, ev):
    rec = SessionRecorder(store)
    rec(ev.started("p01"))
    rec(ev.final("两天", final=False))
    rec(ev.final("两天内先还一万"))
    assert [u["text"] for u in store.utterances("p01")] == ["两天内先还一万"]


def test_corrupt_file_is_set_aside_and_a_new_one_started(db_path, ev):
    db_path.parent.mkdir(parents=True)
    garbage = os.urandom(4096)
    db_path.write_bytes(garbage)
    store = open_store(db_path)
    try:
        assert store.open_warning and "kept as" in store.open_warning
        aside = list(db_path.parent.glob("sessions.db.corrupt-*"))
        assert len(aside) == 1 and aside[0].read_bytes() == garbage
        assert str(aside[0]) in store.open_warning
        rec = SessionRecorder(store)
        rec(ev.started("after01"))
        rec(ev.final("新的开始"))
        assert [u["text"] for u in store.utterances("after01")] == ["新的开始"]
    finally:
        store.close()
    with open_store(db_path) as again:  # the new file is healthy: no warning the second time
        assert again.open_warning is None and again.count_sessions() == 1


def test_damaged_pages_after_a_valid_header_are_detected(db_path, ev):
    open_store(db_path).close()
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page, keep the magic header
    db_path.write_bytes(bytes(data))
    with open_store(db_path) as store:
        assert store.open_warning is not None
        assert store.count_sessions() == 0
    assert len(list(db_path.parent.glob("sessions.db.corrupt-*"))) == 1
