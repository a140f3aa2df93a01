"""The database schema, as numbered migrations applied in order.

``PRAGMA user_version`` holds the version a file is at; ``migrate`` brings it
up to ``SCHEMA_VERSION`` one step at a time, each step in one transaction
(sqlite-utils' ``atomic``; SQLite DDL is transactional), so a crash during an
upgrade leaves the file at the previous version, never half-migrated.
Never edit a released step: add a new one. Runs on the thread opening the store.

Version 1 (the first release): sessions, utterances, faq_hits, suggestions,
warnings, stages (the stage timeline).
Version 2: call_events (audio gaps, device problems), sessions.stages_done,
warnings.acknowledged_at, an index to list sessions by start time.
Version 3: sessions.kind ('live' | 'demo': demo calls are kept out of review, stats and
exports by default), sessions.transcript_removed_at (retention), write keys on utterances and
call_events (a journal replayed twice writes once), utterances.sanitised, summaries (what
retention keeps once a transcript is removed), and the append-only audit table.
Version 4: sessions.agent_id and sessions.case_id.
Version 5: party_settings — who the agent said was on the line (the panel's F7), with how many
transcript lines came before it, so the post-call check starts from the agent's word.
Version 6: one unique index on utterances (session_id, write_key) instead of one on each column:
every utterance commit writes one index page fewer, and the store being encrypted, every page
written is encrypted and authenticated (connection.py; bench_store [c]).
"""
from __future__ import annotations

from typing import Callable

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db.table("sessions").create(
        {
            "id": str, "playbook_id": str, "started_at": float, "ended_at": float,
            "status": str,  # open | ended | interrupted
            "devices": str,  # JSON
            "model": str, "kb_version": str, "notes": str,
            "masked": int,  # 1: transcripts were masked before storage
            "owner_pid": int,  # the recording process, to tell live sessions from crashed ones
        },
        pk="id", not_null={"status"}, defaults={"status": "open", "notes": "", "masked": 1},
    )
    child = [("session_id", "sessions", "id")]
    db.table("utterances").create(
        {
            "id": int, "session_id": str, "speaker": str, "text": str,
            "start_s": float, "end_s": float, "confidence": float, "segment": str,
            "recorded_at": float,
        },
        pk="id", foreign_keys=child,
    )
    db.table("faq_hits").create(
        {
            "id": int, "session_id": str, "utterance_id": int, "faq_id": str,
            "question": str, "answer": str, "score": float, "shown": int, "matched": str,
            "used": int,
        },
        pk="id", foreign_keys=child, defaults={"used": 0},
    )
    db.table("suggestions").create(
        {
            "id": int, "session_id": str, "utterance_id": int, "text": str,
            "stage_index": int, "kind": str, "line_id": str, "used": int,
        },
        pk="id", foreign_keys=child, defaults={"used": 0},
    )
    db.table("warnings").create(
        {
            "id": int, "session_id": str, "utterance_id": int, "rule_id": str,
            "severity": str, "title": str, "message": str, "source": str,
            "span_start": int, "span_end": int, "said": str, "acknowledged": int,
        },
        pk="id", foreign_keys=child, defaults={"acknowledged": 0},
    )
    db.table("stages").create(
        {
            "id": int, "session_id": str, "utterance_id": int, "playbook_id": str,
            "stage_index": int, "stage_id": str, "title": str, "at_s": float,
        },
        pk="id", foreign_keys=child,
    )
    for table in ("utterances", "faq_hits", "suggestions", "warnings", "stages"):
        db.table(table).create_index(["session_id"])


def _v2(db: sqlite_utils.Database) -> None:
    db.table("call_events").create(
        {
            "id": int, "session_id": str, "kind": str,  # audio_gap | device_problem
            "channel": str, "start_s": float, "end_s": float, "message": str, "fix": str,
            "recovered": int, "recorded_at": float,
        },
        pk="id", foreign_keys=[("session_id", "sessions", "id")],
    )
    db.table("call_events").create_index(["session_id"])
    db.table("sessions").add_column("stages_done", str)  # JSON list of 1-based stage indexes
    db.table("warnings").add_column("acknowledged_at", float)
    db.table("sessions").create_index(["started_at"])


def _v3(db: sqlite_utils.Database) -> None:
    db.table("sessions").add_column("kind", str, not_null_default="live")
    db.table("sessions").add_column("transcript_removed_at", float)
    db.table("utterances").add_column("write_key", str)
    db.table("utterances").add_column("sanitised", int, not_null_default=0)
    db.table("call_events").add_column("write_key", str)
    db.execute("CREATE UNIQUE INDEX idx_utterances_write_key ON utterances(write_key)")
    db.execute("CREATE UNIQUE INDEX idx_call_events_write_key ON call_events(write_key)")
    db.table("summaries").create(
        {"session_id": str, "summary": str, "made_at": float},  # summary: JSON of build_summary
        pk="session_id", foreign_keys=[("session_id", "sessions", "id")],
    )
    db.table("audit").create(
        {"id": int, "at": float, "who": str, "action": str, "what": str, "rows": int},
        pk="id",
    )
    # append-only: SQLite itself refuses to change or remove an audit row
    db.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
               " BEGIN SELECT RAISE(ABORT, 'audit rows cannot be changed'); END")
    db.execute("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
               " BEGIN SELECT RAISE(ABORT, 'audit rows cannot be deleted'); END")


def _v4(db: sqlite_utils.Database) -> None:
    # Who took the call and which case it was about, for review's filters and the weekly roll-up.
    db.table("sessions").add_column("agent_id", str)
    db.table("sessions").add_column("case_id", str)  # normalised (assist.zh.identifiers); masked on screen
    db.table("sessions").create_index(["agent_id"])
    db.table("sessions").create_index(["case_id"])


def _v5(db: sqlite_utils.Database) -> None:
    # The agent's own setting of who is on the line (F7 in the panel). ``before_line`` is the number
    # of transcript lines stored before it (the post-call check applies it from that line on);
    # kind/relation as in assist.events.PartyState. No words of the call: nothing to mask.
    db.table("party_settings").create(
        {"id": int, "session_id": str, "before_line": int, "kind": str, "relation": str,
         "at_s": float, "recorded_at": float, "write_key": str},
        pk="id", foreign_keys=[("session_id", "sessions", "id")], not_null={"kind"},
    )
    db.table("party_settings").create_index(["session_id"])
    db.execute("CREATE UNIQUE INDEX idx_party_settings_write_key ON party_settings(write_key)")


def _v6(db: sqlite_utils.Database) -> None:
    # The session's utterances (review, export, retention) are found by the index's first column; the
    # recorder's "already stored?" check and a journal replayed twice by both (write keys are unique
    # on their own: a per-recorder token and a sequence number).
    db.execute("CREATE UNIQUE INDEX idx_utterances_session_write ON utterances(session_id, write_key)")
    db.execute("DROP INDEX IF EXISTS idx_utterances_write_key")
    db.execute("DROP INDEX IF EXISTS idx_utterances_session_id")


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2, _v3, _v4, _v5, _v6)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database, target: int = SCHEMA_VERSION) -> int:
    """Apply the missing steps up to ``target``; return the version the file started at.

    A file newer than this code is refused rather than guessed at.
    """
    from assist.store.errors import StoreError

    start = schema_version(db)
    if start > SCHEMA_VERSION:
        raise StoreError(
            f"通话记录库（版本 {start}）比当前的 assist（最高支持版本 {SCHEMA_VERSION}）新，"
            f"为避免损坏其中的记录，本程序不会改动它。",
            "请升级 assist 到新版本；命令行也可用 --db 指定另一个记录库。",
        )
    for version in range(start + 1, target + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {version}")
    return start
