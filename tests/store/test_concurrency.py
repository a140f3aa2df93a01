"""WAL: the review side reads while the live recorder writes, and neither waits for the other."""
from __future__ import annotations

import threading

from assist.store import SessionRecorder, open_store

from .conftest import raw_connection


def test_reader_runs_while_recorder_writes(db_path, ev):
    writer_store = open_store(db_path)
    reader_store = open_store(db_path)  # the review window's own store: its own connections
    rec = SessionRecorder(writer_store)
    rec(ev.started("live01"))
    assert rec.wait_saved()
    n_utts = 300
    errors: list[BaseException] = []
    seen: dict[str, list[int]] = {}
    done = threading.Event()

    def write():
        try:
            for i in range(n_utts):
                text = f"第{i}句 你再不还我们就起诉你"
                rec(ev.final(text, speaker="agent", start=float(i),
                             warnings=[ev.warning(text, "起诉你")] if i % 10 == 0 else ()))
        except BaseException as e:  # noqa: BLE001 - surfaced by the assert below
            errors.append(e)
        finally:
            rec.flush(60)  # the recorder writes on its own thread: read until it has written everything
            done.set()

    def read():
        mine = seen.setdefault(threading.current_thread().name, [])
        try:
            while not done.is_set():
                rows = reader_store.list_sessions(limit=10)
                b = reader_store.bundle("live01")
                mine.append(len(b["utterances"]))
                # a snapshot is consistent: every warning points at an utterance in the same snapshot
                ids = {u["id"] for u in b["utterances"]}
                assert all(w["utterance_id"] in ids for w in b["warnings"])
                assert rows[0]["id"] == "live01"
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=write), threading.Thread(target=read), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert rec.flush()
    assert not errors, errors
    for counts in seen.values():
        assert counts == sorted(counts)  # each reader sees the call grow, never shrink
    # reads happened while the call was being written, not only before or after
    assert any(0 < c < n_utts for counts in seen.values() for c in counts)
    assert len(reader_store.utterances("live01")) == n_utts
    assert len(reader_store.warnings("live01")) == n_utts // 10
    rec.close()
    writer_store.close()
    reader_store.close()


def test_open_read_transaction_does_not_block_writer_and_vice_versa(db_path, ev):
    store = open_store(db_path)
    rec = SessionRecorder(store)
    rec(ev.started("live02"))
    rec(ev.final("第一句"))
    assert rec.flush()

    # a reader holding a snapshot open (a slow export) does not stop the recorder
    reader = raw_connection(db_path, timeout=0)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM utterances").fetchone()[0] == 1
    problems = []
    rec.on_problem = problems.append
    for i in range(5):
        rec(ev.final(f"第{i + 2}句", start=float(i + 1)))
    assert rec.flush()
    assert problems == [] and rec.pending == 0
    assert reader.execute("SELECT count(*) FROM utterances").fetchone()[0] == 1  # its snapshot
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM utterances").fetchone()[0] == 6

    # a writer in the middle of a transaction does not make a reader fail with 'database is locked'
    writer = raw_connection(db_path, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE sessions SET notes='typing' WHERE id='live02'")
    assert reader.execute("SELECT notes FROM sessions WHERE id='live02'").fetchone()[0] == ""
    other = open_store(db_path)
    assert len(other.utterances("live02")) == 6
    writer.execute("COMMIT")
    assert other.get_notes("live02") == "typing"
    for c in (reader, writer):
        c.close()
    other.close()
    store.close()


def test_two_recognizer_threads_share_one_recorder(store, ev):
    rec = SessionRecorder(store)
    rec(ev.started("two01"))

    def channel(speaker):
        for i in range(100):
            rec(ev.final(f"{speaker}{i}", speaker=speaker, start=i * 2.0 + (speaker == "customer")))

    threads = [threading.Thread(target=channel, args=(sp,)) for sp in ("agent", "customer")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rec.flush()
    utts = store.utterances("two01")
    assert len(utts) == 200
    # the transcript is in call-time order, interleaving the two channels
    assert [u["text"] for u in utts[:4]] == ["agent0", "customer0", "agent1", "customer1"]
