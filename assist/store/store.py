"""SessionStore: the SQLite file of recorded calls, for the live recorder and for review.

Writes (the recorder's inserts, notes, acknowledgements, deletes) go through one
writer connection under a lock, each in its own short transaction. Reads use one
connection per calling thread; in WAL mode a reader sees the last committed state
and never waits for, nor blocks, the live writer. Any thread may call any method.

Texts are masked before storage when ``mask`` is on (see masking.py); exports
mask again unless asked not to, which only helps if storage masking was off.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterable

import sqlite_utils

from assist.events import AssistResult, AudioGap, CallStarted, DeviceProblem, Suggestion
from assist.store.connection import connect
from assist.store.errors import StoreError
from assist.store.masking import mask_text
from assist.store.summary import build_summary, call_duration


CHILD_TABLES = ("faq_hits", "suggestions", "warnings", "stages", "call_events", "utterances")


def _row(row: sqlite3.Row | None) -> dict | None:
    return dict(row) if row is not None else None


class SessionStore:
    """One open session database. Build it with ``open_store``; close it when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, mask: bool = True,
                 open_warning: str | None = None, interrupted: tuple[str, ...] = ()):
        self.path = Path(path)
        self.mask = mask
        #: a message for the UI when opening had to repair something (corrupt file set aside)
        self.open_warning = open_warning
        #: sessions found open from a crash and closed as interrupted at this open
        self.interrupted_at_open = interrupted
        self._writer = sqlite_utils.Database(conn)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._kb = None
        self._kb_loaded = False
        self._closed = False

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def db(self) -> sqlite_utils.Database:
        """The writer's sqlite-utils Database (for migrations, bench bulk loads); hold no lock."""
        return self._writer

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError("the session store is closed")
            conn = connect(self.path, writer=False)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _query(self, sql: str, params: Iterable = ()) -> list[dict]:
        return [dict(r) for r in self._reader().execute(sql, tuple(params)).fetchall()]

    def _write(self, fn):
        """Run ``fn(db)`` in one transaction on the writer; sqlite3 errors propagate (the recorder buffers)."""
        with self._write_lock:
            if self._closed:
                raise StoreError("the session store is closed")
            with self._writer.atomic():
                return fn(self._writer)

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # made in another thread that is gone
                    pass
            self._readers.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _text(self, text: str) -> str:
        return mask_text(text) if self.mask else text

    # -- recording (SessionRecorder calls these, from recognizer threads) -------------------

    def begin_session(self, event: CallStarted, owner_pid: int | None = None) -> None:
        def op(db):
            db.execute(
                "INSERT INTO sessions (id, playbook_id, started_at, status, devices, model, kb_version,"
                " notes, masked, owner_pid, stages_done) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET status='open', owner_pid=excluded.owner_pid",
                (event.session_id, event.playbook_id, event.started_at, "open",
                 json.dumps(event.devices, ensure_ascii=False, default=str), event.model,
                 event.kb_version, "", int(self.mask), owner_pid or os.getpid(), "[]"),
            )
        self._write(op)

    def record_final(self, session_id: str, result: AssistResult, *, stage_changed: bool = False,
                     new_suggestions: Iterable[Suggestion] = (), stages_done: tuple[int, ...] | None = None,
                     playbook_id: str | None = None, recorded_at: float | None = None) -> int:
        """Store one final utterance with what was shown for it, in one transaction; return its row id."""
        u = result.utterance
        now = recorded_at if recorded_at is not None else time.time()
        text = self._text(u.text)

        def op(db):
            cur = db.execute(
                "INSERT INTO utterances (session_id, speaker, text, start_s, end_s, confidence, segment,"
                " recorded_at) VALUES (?,?,?,?,?,?,?,?)",
                (session_id, u.speaker, text, u.start, u.end, u.confidence, u.segment, now),
            )
            uid = cur.lastrowid
            if result.faq:
                db.conn.executemany(
                    "INSERT INTO faq_hits (session_id, utterance_id, faq_id, question, answer, score, shown,"
                    " matched) VALUES (?,?,?,?,?,?,?,?)",
                    [(session_id, uid, h.faq_id, h.question, h.answer, h.score, int(h.shown), h.matched)
                     for h in result.faq],
                )
            sugg = list(new_suggestions)
            if sugg:
                db.conn.executemany(
                    "INSERT INTO suggestions (session_id, utterance_id, text, stage_index, kind, line_id)"
                    " VALUES (?,?,?,?,?,?)",
                    [(session_id, uid, s.text, s.stage_index, s.kind, s.line_id) for s in sugg],
                )
            if result.warnings:
                db.conn.executemany(
                    "INSERT INTO warnings (session_id, utterance_id, rule_id, severity, title, message, source,"
                    " span_start, span_end, said) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [(session_id, uid, w.rule_id, w.severity, w.title, w.message, w.source,
                      w.span[0], w.span[1], self._text(w.said)) for w in result.warnings],
                )
            if stage_changed and result.stage is not None:
                s = result.stage
                db.execute(
                    "INSERT INTO stages (session_id, utterance_id, playbook_id, stage_index, stage_id, title,"
                    " at_s) VALUES (?,?,?,?,?,?,?)",
                    (session_id, uid, s.playbook_id, s.index, s.stage_id, s.title, u.start),
                )
            if stages_done is not None:
                db.execute("UPDATE sessions SET stages_done=? WHERE id=?",
                           (json.dumps(sorted(stages_done)), session_id))
            if playbook_id:
                db.execute("UPDATE sessions SET playbook_id=? WHERE id=?", (playbook_id, session_id))
            return uid
        return self._write(op)

    def record_call_event(self, session_id: str, event: AudioGap | DeviceProblem,
                          recorded_at: float | None = None) -> None:
        now = recorded_at if recorded_at is not None else time.time()
        if isinstance(event, AudioGap):
            row = ("audio_gap", event.channel, event.start, event.end, event.reason, "", 0)
        else:
            row = ("device_problem", event.channel, None, None, event.message, event.fix, int(event.recovered))
        self._write(lambda db: db.execute(
            "INSERT INTO call_events (session_id, kind, channel, start_s, end_s, message, fix, recovered,"
            " recorded_at) VALUES (?,?,?,?,?,?,?,?,?)", (session_id, *row, now)))

    def end_session(self, session_id: str, ended_at: float, interrupted: bool = False) -> None:
        status = "interrupted" if interrupted else "ended"
        self._write(lambda db: db.execute(
            "UPDATE sessions SET ended_at=?, status=? WHERE id=?", (ended_at, status, session_id)))

    # -- review: reads ------------------------------------------------------------------------

    def count_sessions(self) -> int:
        return self._reader().execute("SELECT count(*) FROM sessions").fetchone()[0]

    def list_sessions(self, limit: int = 50, offset: int = 0) -> list[dict]:
        """Newest first: id, started_at, ended_at, duration_s, status, playbook_id, model,
        n_utterances, n_warnings, n_critical, has_notes."""
        rows = self._query(
            "SELECT s.id, s.started_at, s.ended_at, s.status, s.playbook_id, s.model,"
            " (SELECT max(coalesce(u.end_s, u.start_s)) FROM utterances u WHERE u.session_id=s.id) AS speech_end_s,"
            " (SELECT count(*) FROM utterances u WHERE u.session_id=s.id) AS n_utterances,"
            " (SELECT count(*) FROM warnings w WHERE w.session_id=s.id) AS n_warnings,"
            " (SELECT count(*) FROM warnings w WHERE w.session_id=s.id AND w.severity='critical') AS n_critical,"
            " (coalesce(s.notes,'') != '') AS has_notes"
            " FROM sessions s ORDER BY s.started_at DESC, s.id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        for r in rows:
            r["duration_s"] = call_duration(r["started_at"], r["ended_at"], r.pop("speech_end_s"))
        return rows

    def resolve_id(self, id_or_prefix: str) -> str:
        """The full id of the one session whose id is, or starts with, ``id_or_prefix``."""
        prefix = (id_or_prefix or "").strip()
        if not prefix:
            raise StoreError("no session id given")
        rows = self._reader().execute(
            "SELECT id FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
            (prefix, prefix + "\U0010ffff"),
        ).fetchall()
        ids = [r[0] for r in rows]
        if prefix in ids:
            return prefix
        if not ids:
            raise StoreError(f"no session with id {prefix!r} in {self.path} (see: assist sessions list)")
        if len(ids) > 1:
            more = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            raise StoreError(f"session id {prefix!r} is ambiguous: it starts {more}; give more characters")
        return ids[0]

    def get_session(self, session_id: str) -> dict:
        """The session row (devices and stages_done decoded); unknown id or prefix -> StoreError."""
        sid = self.resolve_id(session_id)
        row = _row(self._reader().execute("SELECT * FROM sessions WHERE id=?", (sid,)).fetchone())
        if row is None:  # deleted between resolve and read
            raise StoreError(f"no session with id {sid!r}")
        row["devices"] = json.loads(row["devices"] or "{}")
        row["stages_done"] = json.loads(row.get("stages_done") or "[]")
        return row

    def utterances(self, session_id: str) -> list[dict]:
        """Final utterances in call order: id, speaker, text, start_s, end_s, confidence, segment."""
        sid = self.resolve_id(session_id)
        return self._query("SELECT * FROM utterances WHERE session_id=? ORDER BY coalesce(start_s, end_s), id",
                           (sid,))

    def warnings(self, session_id: str) -> list[dict]:
        sid = self.resolve_id(session_id)
        return self._query("SELECT * FROM warnings WHERE session_id=? ORDER BY id", (sid,))

    def faq_hits(self, session_id: str) -> list[dict]:
        sid = self.resolve_id(session_id)
        return self._query(
            "SELECT f.*, u.speaker AS speaker FROM faq_hits f LEFT JOIN utterances u ON u.id=f.utterance_id"
            " WHERE f.session_id=? ORDER BY f.id", (sid,))

    def suggestions(self, session_id: str) -> list[dict]:
        sid = self.resolve_id(session_id)
        return self._query("SELECT * FROM suggestions WHERE session_id=? ORDER BY id", (sid,))

    def stage_timeline(self, session_id: str) -> list[dict]:
        sid = self.resolve_id(session_id)
        return self._query("SELECT * FROM stages WHERE session_id=? ORDER BY id", (sid,))

    def call_events(self, session_id: str) -> list[dict]:
        sid = self.resolve_id(session_id)
        return self._query("SELECT * FROM call_events WHERE session_id=? ORDER BY id", (sid,))

    def get_notes(self, session_id: str) -> str:
        return self.get_session(session_id)["notes"] or ""

    def bundle(self, session_id: str) -> dict:
        """Everything about one session, read in one snapshot (for summary, show, export)."""
        sid = self.resolve_id(session_id)
        conn = self._reader()
        # one read transaction: all parts come from the same committed state even while recording
        conn.execute("BEGIN")
        try:
            return {
                "session": self.get_session(sid),
                "utterances": self.utterances(sid),
                "warnings": self.warnings(sid),
                "faq_hits": self.faq_hits(sid),
                "suggestions": self.suggestions(sid),
                "stages": self.stage_timeline(sid),
                "call_events": self.call_events(sid),
            }
        finally:
            conn.execute("COMMIT")

    # -- review: summary and export ------------------------------------------------------------

    def _knowledge_base(self):
        if not self._kb_loaded:
            self._kb_loaded = True
            try:
                from assist.knowledge import load_kb

                self._kb = load_kb()
            except Exception:  # summary still works without the playbook: 'missed' is then unknown
                self._kb = None
        return self._kb

    def summary(self, session_id: str, kb=None) -> dict:
        """The post-call summary (see summary.py); ``kb`` defaults to the bundled knowledge base."""
        return build_summary(self.bundle(session_id), kb if kb is not None else self._knowledge_base())

    def export(self, session_id: str, fmt: str = "markdown", unmask: bool = False, kb=None) -> str:
        """The session as 'markdown', 'json' or 'csv' text; numbers masked unless ``unmask``."""
        from assist.store.export import export_session

        bundle = self.bundle(session_id)
        summary = None if fmt == "csv" else self.summary(session_id, kb=kb)
        return export_session(bundle, summary, fmt, unmask=unmask)

    # -- review: writes -------------------------------------------------------------------------

    def set_notes(self, session_id: str, text: str) -> None:
        sid = self.resolve_id(session_id)
        self._write(lambda db: db.execute("UPDATE sessions SET notes=? WHERE id=?", (text, sid)))

    def acknowledge_warning(self, warning_row_id: int, acknowledged: bool = True) -> None:
        def op(db):
            cur = db.execute("UPDATE warnings SET acknowledged=?, acknowledged_at=? WHERE id=?",
                             (int(acknowledged), time.time() if acknowledged else None, warning_row_id))
            if cur.rowcount == 0:
                raise StoreError(f"no warning with row id {warning_row_id}")
        self._write(op)

    def mark_suggestion_used(self, session_id: str, text_or_row_id: str | int, used: bool = True) -> int:
        """Mark a shown script line (by row id or exact text) as used; return rows changed."""
        sid = self.resolve_id(session_id)
        if isinstance(text_or_row_id, int):
            sql, arg = "UPDATE suggestions SET used=? WHERE session_id=? AND id=?", text_or_row_id
        else:
            sql, arg = "UPDATE suggestions SET used=? WHERE session_id=? AND text=?", text_or_row_id
        return self._write(lambda db: db.execute(sql, (int(used), sid, arg)).rowcount)

    def mark_faq_used(self, session_id: str, faq_id: str, used: bool = True) -> int:
        """Mark an FAQ answer the agent actually read out; return rows changed."""
        sid = self.resolve_id(session_id)
        return self._write(lambda db: db.execute(
            "UPDATE faq_hits SET used=? WHERE session_id=? AND faq_id=?", (int(used), sid, faq_id)).rowcount)

    def delete(self, session_id: str) -> None:
        sid = self.resolve_id(session_id)
        self._write(lambda db: self._delete_ids(db, [sid]))

    def purge(self, older_than: timedelta, now: float | None = None) -> int:
        """Delete sessions that started more than ``older_than`` ago (retention); return how many."""
        cutoff = (now if now is not None else time.time()) - older_than.total_seconds()

        def op(db):
            ids = [r[0] for r in db.execute("SELECT id FROM sessions WHERE started_at < ?", (cutoff,)).fetchall()]
            self._delete_ids(db, ids)
            return len(ids)
        return self._write(op)

    @staticmethod
    def _delete_ids(db: sqlite_utils.Database, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for table in CHILD_TABLES:
                db.execute(f"DELETE FROM {table} WHERE session_id IN ({marks})", chunk)
            db.execute(f"DELETE FROM sessions WHERE id IN ({marks})", chunk)
