"""Faults: a full disk, a read-only or locked database mid-call (queued, journalled, reported,
replayed, nothing lost), one bad utterance (sanitised or set aside, the rest stored), and a
damaged or foreign file at start (set aside or refused, clear Chinese message)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from assist.events import DeviceProblem, StoreProblem
from assist.store import SessionRecorder, StoreError, open_store

LONG = "客户说" + "我现在手头确实很紧张" * 60  # fills pages fast so the page cap bites


def _pragma(store, sql):
    # through the store's write lock: the recorder's writer thread uses the same connection
    store._write(lambda db: db.execute(sql))


def _page_count(store):
    return store.db.execute("PRAGMA page_count").fetchone()[0]


@pytest.fixture
def problems() -> list[StoreProblem]:
    """The StoreProblems a ``watched`` recorder reported, in order."""
    return []


@pytest.fixture
def watched(problems):
    """``watched(store)``: a recorder on ``store`` whose problems go to the ``problems`` list."""
    return lambda store: SessionRecorder(store, on_problem=problems.append)


@pytest.fixture
def filled_db(db_path, ev):
    """A store file holding one call of 200 long utterances (many pages), checkpointed: ready to damage."""
    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        rec(ev.started("filled01"))
        for i in range(200):
            rec(ev.final(f"第{i}句 {LONG}", start=float(i)))
        assert rec.close() == 0
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db_path


def test_disk_full_mid_call_is_journalled_reported_and_saved_later(watched, problems, store, ev):
    rec = watched(store)
    rec(ev.started("full01"))
    rec(ev.final("第0句", start=0.0))
    assert rec.wait_saved()
    # SQLite's own page cap gives the same SQLITE_FULL error a full disk does
    _pragma(store, f"PRAGMA max_page_count = {_page_count(store)}")
    sent = ["第0句"]
    for i in range(1, 40):
        text = f"第{i}句 {LONG}"
        sent.append(text)
        rec(ev.final(text, start=float(i), warnings=[ev.warning(text, "手头")] if i == 5 else ()))
    rec(DeviceProblem(channel="customer", message="device lost", fix="plug it back"))
    assert rec.flush()  # durable: in the journal beside the store, not only in memory
    assert rec.spool_path.exists()
    assert not problems[0].recovered and "磁盘已满" in problems[0].message
    assert str(store.path) in problems[0].message and "清理磁盘空间" in problems[0].fix
    assert any("暂存文件" in p.message for p in problems)  # it says where the call went
    assert rec.pending >= 10  # the call went on; later utterances queued behind the failed one

    _pragma(store, "PRAGMA max_page_count = 1073741823")  # space freed
    rec(ev.final("第40句", start=40.0))
    sent.append("第40句")
    assert rec.wait_saved()
    assert rec.pending == 0
    assert problems[-1].recovered and problems[-1].pending == 0
    assert sum(1 for p in problems if not p.recovered) <= 2  # start of outage, journal: not one per utterance
    assert [u["text"] for u in store.utterances("full01")] == sent  # nothing lost, order kept
    assert len(store.warnings("full01")) == 1
    assert store.call_events("full01")[0]["message"] == "device lost"
    assert rec.close() == 0
    assert not rec.spool_path.exists()  # an emptied journal is removed


def test_read_only_database_keeps_everything_until_it_is_writable(watched, problems, store, ev):
    rec = watched(store)
    rec(ev.started("ro01"))
    assert rec.wait_saved()
    _pragma(store, "PRAGMA query_only = 1")  # every write now fails: 'attempt to write a readonly database'
    for i in range(5):
        rec(ev.final(f"第{i}句", start=float(i)))
    rec(ev.ended("ro01"))
    assert rec.flush()
    assert rec.pending == 6
    assert "只读" in problems[0].message and "写权限" in problems[0].fix
    assert store.utterances("ro01") == []  # really not written yet
    _pragma(store, "PRAGMA query_only = 0")
    assert rec.close() == 0
    assert problems[-1].recovered
    assert [u["text"] for u in store.utterances("ro01")] == [f"第{i}句" for i in range(5)]
    assert store.get_session("ro01")["status"] == "ended"


def test_what_close_cannot_save_stays_in_the_journal_and_the_next_open_replays_it(watched, problems, db_path, ev):
    store = open_store(db_path)
    rec = watched(store)
    rec(ev.started("ro02"))
    assert rec.wait_saved()
    _pragma(store, "PRAGMA query_only = 1")
    rec(ev.final("说了什么"))
    assert rec.close() == 1
    assert problems[-1].pending == 1 and not problems[-1].recovered and "暂存文件" in problems[-1].message
    store.close()
    # journals are replayed at open only when their process is gone: pretend this one died
    spool = rec.spool_path
    assert spool.exists()
    dead = spool.with_name(spool.name.rsplit("-", 1)[0] + "-999999999")
    spool.rename(dead)
    with open_store(db_path) as again:
        assert [u["text"] for u in again.utterances("ro02")] == ["说了什么"]
    assert not dead.exists()


def test_on_problem_may_publish_back_into_the_recorder(store, ev):
    # the app wires on_problem to Call.publish, which calls the recorder again: no deadlock
    seen = []
    rec = SessionRecorder(store)
    rec.on_problem = lambda p: (seen.append(p), rec(p))
    rec(ev.started("loop01"))
    assert rec.wait_saved()
    _pragma(store, "PRAGMA query_only = 1")
    rec(ev.final("一"))
    assert rec.flush()
    _pragma(store, "PRAGMA query_only = 0")
    rec(ev.final("二", start=1.0))
    assert rec.wait_saved()
    assert [p.recovered for p in seen][0] is False and seen[-1].recovered


def test_partials_are_not_stored(store, ev):
    rec = SessionRecorder(store)
    rec(ev.started("p01"))
    rec(ev.final("两天", final=False))
    rec(ev.final("两天内先还一万"))
    assert rec.close() == 0
    assert [u["text"] for u in store.utterances("p01")] == ["两天内先还一万"]


def test_one_bad_utterance_is_stored_sanitised_and_the_rest_of_the_call_too(watched, problems, store, ev):
    rec = watched(store)
    rec(ev.started("bad01"))
    rec(ev.final("第一句"))
    rec(ev.final("坏的\udc80一句\x00话", start=1.0))  # a lone surrogate and a NUL from a broken decoder
    rec(ev.final("第三句", start=2.0))
    assert rec.close() == 0 and rec.sanitised == 1 and rec.set_aside == 0
    rows = store.utterances("bad01")
    assert [u["text"] for u in rows] == ["第一句", "坏的\ufffd一句\ufffd话", "第三句"]
    assert [u["sanitised"] for u in rows] == [0, 1, 0]
    assert any("替换" in p.message for p in problems)


def test_a_write_the_database_refuses_is_set_aside_with_its_reason(watched, problems, store, ev):
    rec = watched(store)
    rec(ev.started("ok01"))
    rec(ev.final("之前"))
    assert rec.wait_saved()
    rec.session_id = "no-such-session"  # an utterance whose session row does not exist: a constraint fails
    rec(ev.final("孤儿\udc80", start=1.0))
    rec.session_id = "ok01"
    rec(ev.final("之后", start=2.0))
    left = rec.close()
    assert left == 1 and rec.set_aside == 1  # callers turn this into a message and an exit code
    assert [u["text"] for u in store.utterances("ok01")] == ["之前", "之后"]
    assert any(p.set_aside == 1 and "单独保留" in p.message for p in problems)
    from assist.store.spool import Spool

    spool = Spool(rec.spool_path, store._key)
    assert spool.counts() == (0, 1) and "FOREIGN KEY" in spool.set_aside_reasons()[0]
    spool.close()
    assert rec.spool_path.exists()  # kept: a set-aside record is never dropped


LOCKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from conftest import raw_connection
    conn = raw_connection(sys.argv[1])
    conn.isolation_level = None
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()  # hold the lock until the test says so
    conn.execute("COMMIT")
""")


def test_another_process_holding_the_lock_never_holds_up_the_call(watched, problems, db_path, ev, kb_dir_shipped):
    """The bench holds the lock 20 s and times suggestions; here the lock is held for the whole
    replayed call, so a recorder that waited on SQLite would never let the call finish."""
    from assist.call import Call
    from assist.demo import DemoPlayer, load_demo
    from assist.engine import AssistEngine
    from assist.events import AssistResult

    store = open_store(db_path)
    rec = watched(store)
    results: list[AssistResult] = []
    call = Call(AssistEngine(kb_dir_shipped, playbook_id="changjiang_extension"),
                subscribers=(rec, lambda e: results.append(e) if isinstance(e, AssistResult) else None))
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db_path), os.path.dirname(__file__)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked", locker.stderr.read()
        lines = load_demo()
        player = DemoPlayer(call, lines, fast=True)
        player.start()
        assert player.wait(120)  # the whole call ran while the other process held the lock
        finals = [r for r in results if r.utterance.final]
        assert len(finals) == len(lines)
        assert rec.flush()  # and everything said is durable already: in the journal
        assert store.count_sessions() == 0  # nothing reached the store while it was locked
        assert problems and "其他程序占用" in problems[0].message and "关闭" in problems[0].fix
    finally:
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(30)
    assert rec.close() == 0
    assert problems[-1].recovered
    stored = [u["text"] for u in store.utterances(call.session_id)]
    assert len(stored) == len(lines)
    assert store.get_session(call.session_id)["status"] == "ended"
    store.close()


@pytest.fixture(scope="module")
def kb_dir_shipped():
    from assist.knowledge import load_kb

    return load_kb()


def test_corrupt_file_is_set_aside_and_a_new_one_started(db_path, ev):
    db_path.parent.mkdir(parents=True)
    garbage = os.urandom(4096)
    db_path.write_bytes(garbage)
    store = open_store(db_path)
    try:
        assert store.open_warning and "已原样保留为" in store.open_warning
        assert "assist sessions recover" in store.open_warning
        aside = list(db_path.parent.glob("sessions.db.corrupt-*"))
        assert len(aside) == 1 and aside[0].read_bytes() == garbage
        assert str(aside[0]) in store.open_warning
        rec = SessionRecorder(store)
        rec(ev.started("after01"))
        rec(ev.final("新的开始"))
        assert rec.close() == 0
        assert [u["text"] for u in store.utterances("after01")] == ["新的开始"]
    finally:
        store.close()
    with open_store(db_path) as again:  # the new file is healthy: no warning the second time
        assert again.open_warning is None and again.count_sessions() == 1


def test_damaged_pages_are_detected(filled_db):
    db_path = filled_db
    data = bytearray(db_path.read_bytes())
    data[8192:12288] = b"\xff" * 4096  # wreck a page in the middle
    db_path.write_bytes(bytes(data))
    with open_store(db_path) as store:
        assert store.open_warning is not None and "损坏" in store.open_warning
        assert store.count_sessions() == 0
    assert len(list(db_path.parent.glob("sessions.db.corrupt-*"))) == 1


@pytest.mark.parametrize("name, content", [
    ("report.docx", b"PK\x03\x04" + b"\x00" * 2000),
    ("notes.txt", "客户资料".encode() * 100),
])
def test_a_file_that_is_not_a_store_is_never_renamed_or_replaced(tmp_path, name, content):
    target = tmp_path / name
    target.write_bytes(content)
    mode = target.stat().st_mode
    with pytest.raises(StoreError, match="不是 assist 的通话记录库"):
        open_store(target)
    assert target.read_bytes() == content and target.stat().st_mode == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_another_programs_sqlite_file_is_not_taken_over(tmp_path):
    import sqlite3

    other = tmp_path / "crm.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="不是 assist 的通话记录库"):
        open_store(other)
    assert other.read_bytes() == before


def test_a_store_from_a_future_version_is_refused_untouched(db_path):
    from assist.store.migrations import SCHEMA_VERSION

    from .conftest import raw_connection

    open_store(db_path).close()
    conn = raw_connection(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="升级 assist"):
        open_store(db_path)
    assert db_path.read_bytes() == before


def test_a_big_store_is_checked_in_the_background_and_set_aside_at_the_next_open(filled_db, ev, monkeypatch):
    from assist.store import connection

    db_path = filled_db
    data = bytearray(db_path.read_bytes())
    middle = len(data) // 4096 // 2
    data[middle * 4096:(middle + 1) * 4096] = b"\x00" * 4096
    db_path.write_bytes(bytes(data))
    monkeypatch.setattr(connection, "FULL_CHECK_MAX_BYTES", 4096)  # as if the file were big
    import assist.store.opening as opening

    monkeypatch.setattr(opening, "FULL_CHECK_MAX_BYTES", 4096)
    problems: list[StoreProblem] = []
    with open_store(db_path) as store:  # the light check at open does not read the middle page
        assert store.open_warning is None
        rec = SessionRecorder(store, on_problem=problems.append)
        rec(ev.started("big02"))
        rec(ev.final("新的一句"))
        assert rec.checked.wait(60)
        assert rec.close() == 0
    assert any("损坏" in p.message and "assist sessions recover" in p.fix for p in problems)
    with open_store(db_path) as store:  # the marker makes this open check fully and set the file aside
        assert store.open_warning and "已原样保留为" in store.open_warning
