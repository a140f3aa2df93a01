"""Schema migrations: a file made by the first release opens with current code, data intact."""
from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from assist.store import SessionRecorder, StoreError, open_store
from assist.store.migrations import SCHEMA_VERSION, migrate, schema_version

from .conftest import raw_connection


def _make_v1_file(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    migrate(db, target=1)
    assert schema_version(db) == 1
    assert "call_events" not in db.table_names()
    db["sessions"].insert({"id": "old01", "playbook_id": "changjiang_extension", "started_at": 1700000000.0,
                           "ended_at": 1700000300.0, "status": "ended", "devices": "{}", "model": "m",
                           "kb_version": "v0", "notes": "老记录", "masked": 1, "owner_pid": 1})
    db["utterances"].insert({"session_id": "old01", "speaker": "customer", "text": "下周五前还3000元",
                             "start_s": 1.0, "end_s": 3.0, "recorded_at": 1700000003.0})
    uid = db.execute("SELECT id FROM utterances").fetchone()[0]
    db["warnings"].insert({"session_id": "old01", "utterance_id": uid, "rule_id": "r1", "severity": "warning",
                           "title": "t", "message": "m", "source": "s", "span_start": 0, "span_end": 2,
                           "said": "下周"})
    db.conn.close()


def test_v1_file_is_migrated_and_keeps_its_data(db_path, ev):
    _make_v1_file(db_path)
    with open_store(db_path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
        s = store.get_session("old01")
        assert s["notes"] == "老记录" and s["status"] == "ended" and s["stages_done"] == []
        assert [u["text"] for u in store.utterances("old01")] == ["下周五前还3000元"]
        # the columns and tables added after v1 work on old rows
        w = store.warnings("old01")[0]
        store.acknowledge_warning(w["id"])
        assert store.warnings("old01")[0]["acknowledged_at"] is not None
        assert store.summary("old01")["promises"][0]["amount"] == 3000
        # and new calls are recorded with everything
        rec = SessionRecorder(store)
        rec(ev.started("new01"))
        from assist.events import AudioGap
        rec(AudioGap(channel="customer", start=1.0, end=2.5, reason="device lost"))
        rec(ev.final("喂", stages_done=(1,)))
        assert rec.close() == 0
        assert store.call_events("new01")[0]["kind"] == "audio_gap"
        assert store.get_session("new01")["stages_done"] == [1]


def test_migration_is_idempotent_on_reopen(db_path):
    open_store(db_path).close()
    with open_store(db_path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION


def test_file_from_a_newer_assist_is_refused_not_damaged(db_path):
    open_store(db_path).close()
    conn = raw_connection(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="比当前的 assist"):
        open_store(db_path)
    assert db_path.exists()
    assert not list(db_path.parent.glob("*.corrupt-*"))


def test_v6_one_utterance_index_serves_sessions_and_write_keys(db_path, ev):
    """A store at version 5 (two utterance indexes) gets the one (session_id, write_key) index; its rows
    keep their order, a write key stored twice is refused, a session's utterances are read by the index."""
    from assist.store import writes

    _make_v1_file(db_path)
    db = sqlite_utils.Database(sqlite3.connect(str(db_path)))  # an earlier version's plaintext file
    migrate(db, target=5)
    db.conn.execute("UPDATE utterances SET write_key='k-old'")
    db.conn.commit()
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='utterances'")}
    assert {"idx_utterances_session_id", "idx_utterances_write_key"} <= names
    db.conn.close()
    with open_store(db_path) as store:
        names = {r[0] for r in store.db.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='utterances'")}
        assert names == {"idx_utterances_session_write"}
        plan = " ".join(r[3] for r in store.db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM utterances WHERE session_id=?", ("old01",)))
        assert "idx_utterances_session_write" in plan
        record = writes.utterance("old01", ev.final("两天内先还一万", start=5.0), "k-new", recorded_at=1700000010.0,
                                  stage_changed=False)
        first = store.apply(record)
        assert store.apply(record) == first  # applied twice (a journal replayed again): stored once
        assert [u["text"] for u in store.utterances("old01")] == ["下周五前还3000元", "两天内先还一万"]
        with pytest.raises(Exception):
            store.db.execute("INSERT INTO utterances (session_id, text, write_key) VALUES ('old01', 'x', 'k-new')")
