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
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import sqlite_utils

from assist.events import AssistResult, AudioGap, CallStarted, DeviceProblem, ListeningResumed, Suggestion
from assist.store import driver, writes
from assist.store.connection import connect
from assist.store.errors import SetAside, StoreError
from assist.store.masking import mask_text

if TYPE_CHECKING:
    from assist.knowledge.model import KnowledgeBase


CHILD_TABLES = ("faq_hits", "suggestions", "warnings", "stages", "call_events", "party_settings", "utterances",
                "summaries")


def _row(row) -> dict | None:
    return dict(row) if row is not None else None


class SessionStore:
    """One open session database. Build it with ``open_store``; close it when done."""

    def __init__(self, path: Path, conn, *, key: str, mask: bool = True,
                 open_warning: str | None = None, interrupted: tuple[str, ...] = (),
                 key_warning: str | None = None):
        self.path = Path(path)
        self.mask = mask
        self._key = key
        #: Chinese: the key is not in a secure keyring (headless machine), with the risk and the fix
        self.key_warning = key_warning
        #: a message for the UI when opening had to repair something (corrupt file set aside)
        self.open_warning = open_warning
        #: sessions found open from a crash and closed as interrupted at this open
        self.interrupted_at_open = interrupted
        self._writer = sqlite_utils.Database(conn)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list = []
        self._readers_lock = threading.Lock()
        self._kb: object | None = None
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
                raise StoreError("通话记录库已关闭")
            conn = connect(self.path, writer=False, key=self._key)
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
                raise StoreError("通话记录库已关闭")
            with self._writer.atomic():
                return fn(self._writer)

    def set_busy_timeout(self, ms: int) -> None:
        """How long a write waits for another program's lock before failing (the recorder keeps it short)."""
        with self._write_lock:
            if not self._closed:
                self._writer.execute(f"PRAGMA busy_timeout = {int(ms)}")

    def _rekey(self, key: str) -> None:
        """Re-encrypt the file with ``key`` (SQLCipher's PRAGMA rekey); readers reconnect with it."""
        from assist.store.keys import sql_key

        with self._write_lock:
            self._writer.execute(f"PRAGMA rekey = {sql_key(key)}")
            self._key = key
        self._close_readers()

    def _close_readers(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                try:
                    conn.close()
                except driver.ProgrammingError:
                    pass
            self._readers.clear()
        self._local = threading.local()

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
                except driver.ProgrammingError:  # made in another thread that is gone
                    pass
            self._readers.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _text(self, text: str) -> str:
        return mask_text(text) if self.mask else text

    # -- recording (the recorder's writer thread calls these) -------------------------------

    def apply(self, record: dict) -> int | None:
        """Write one record from writes.py in one transaction; idempotent on ``record['key']``.

        Returns the utterance row id for an utterance record. A value the database
        cannot bind (lone surrogate, NUL) is retried once sanitised (``sanitised=1``
        on the row); what still fails raises SetAside with the reason. Operational
        errors (locked, full, read-only) propagate: the recorder keeps the record.
        """
        try:
            return self._write(lambda db: self._apply(db, record, sanitised=False))
        except driver.BadValue + driver.IntegrityError + (ValueError,) as e:
            first = e
        except driver.OperationalError:
            raise
        except driver.DatabaseError as e:  # constraint, mismatch: retrying as is cannot help
            first = e
        if not writes.needs_sanitising(record):
            raise SetAside(f"数据库拒绝写入：{first}") from first
        clean = writes.sanitised(record)
        try:
            return self._write(lambda db: self._apply(db, clean, sanitised=True))
        except driver.OperationalError:
            raise
        except driver.BadValue + driver.IntegrityError + driver.DatabaseError + (ValueError,) as e:
            raise SetAside(f"替换无法保存的字符后仍被拒绝：{e}") from e

    def _apply(self, db, r: dict, *, sanitised: bool):
        op = r["op"]
        if op == "begin":
            s = r["session"]
            db.execute(
                "INSERT INTO sessions (id, playbook_id, started_at, status, devices, model, kb_version,"
                " notes, masked, owner_pid, stages_done, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET status='open', owner_pid=excluded.owner_pid",
                (s["id"], s["playbook_id"], s["started_at"], "open", s["devices"], s["model"],
                 s["kb_version"], "", int(self.mask), s["owner_pid"] or os.getpid(), "[]", s.get("kind", "live")),
            )
            return None
        if op == "end":
            db.execute("UPDATE sessions SET ended_at=?, status=? WHERE id=?",
                       (r["ended_at"], "interrupted" if r["interrupted"] else "ended", r["sid"]))
            return None
        if op == "call_event":
            if db.execute("SELECT 1 FROM call_events WHERE write_key=?", (r["key"],)).fetchone():
                return None
            e = r["row"]
            db.execute(
                "INSERT INTO call_events (session_id, kind, channel, start_s, end_s, message, fix, recovered,"
                " recorded_at, write_key) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (r["sid"], e["kind"], e["channel"], e["start_s"], e["end_s"], e["message"], e["fix"],
                 e["recovered"], r["recorded_at"], r["key"]))
            return None
        if op == "party":
            if db.execute("SELECT 1 FROM party_settings WHERE write_key=?", (r["key"],)).fetchone():
                return None
            e = r["row"]
            db.execute(
                "INSERT INTO party_settings (session_id, before_line, kind, relation, at_s, recorded_at, write_key)"
                " VALUES (?,?,?,?,?,?,?)",
                (r["sid"], e["before_line"], e["kind"], e["relation"], e["at_s"], r["recorded_at"], r["key"]))
            return None
        if op in writes.PANEL_OPS:
            return self._apply_panel(db, r)
        if op != "utterance":
            raise SetAside(f"未知的记录类型 {op!r}")
        done = db.execute("SELECT id FROM utterances WHERE session_id=? AND write_key=?",
                          (r["sid"], r["key"])).fetchone()
        if done:
            return done[0]
        sid, u = r["sid"], r["u"]
        cur = db.execute(
            "INSERT INTO utterances (session_id, speaker, text, start_s, end_s, confidence, segment,"
            " recorded_at, write_key, sanitised) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (sid, u["speaker"], self._text(u["text"]), u["start_s"], u["end_s"], u["confidence"], u["segment"],
             r["recorded_at"], r["key"], int(sanitised)),
        )
        uid = cur.lastrowid
        if r["faq"]:
            db.conn.executemany(
                "INSERT INTO faq_hits (session_id, utterance_id, faq_id, question, answer, score, shown,"
                " matched) VALUES (?,?,?,?,?,?,?,?)",
                [(sid, uid, h["faq_id"], h["question"], h["answer"], h["score"], h["shown"], h["matched"])
                 for h in r["faq"]])
        if r["suggestions"]:
            db.conn.executemany(
                "INSERT INTO suggestions (session_id, utterance_id, text, stage_index, kind, line_id)"
                " VALUES (?,?,?,?,?,?)",
                [(sid, uid, x["text"], x["stage_index"], x["kind"], x["line_id"]) for x in r["suggestions"]])
        if r["warnings"]:
            db.conn.executemany(
                "INSERT INTO warnings (session_id, utterance_id, rule_id, severity, title, message, source,"
                " span_start, span_end, said) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(sid, uid, w["rule_id"], w["severity"], w["title"], w["message"], w["source"],
                  w["span_start"], w["span_end"], self._text(w["said"])) for w in r["warnings"]])
        st = r.get("stage")
        if st:
            db.execute(
                "INSERT INTO stages (session_id, utterance_id, playbook_id, stage_index, stage_id, title,"
                " at_s) VALUES (?,?,?,?,?,?,?)",
                (sid, uid, st["playbook_id"], st["stage_index"], st["stage_id"], st["title"], st["at_s"]))
        if r.get("stages_done") is not None:
            db.execute("UPDATE sessions SET stages_done=? WHERE id=?", (json.dumps(r["stages_done"]), sid))
        if r.get("playbook_id"):
            db.execute("UPDATE sessions SET playbook_id=? WHERE id=?", (r["playbook_id"], sid))
        return uid

    def _apply_panel(self, db, r: dict) -> int:
        """A panel write (writes.PANEL_OPS); returns the rows it changed (0: its row is not stored yet)."""
        op, sid = r["op"], r["sid"]
        if op == "notes":  # an agent types numbers into notes too: masked like utterances
            return db.execute("UPDATE sessions SET notes=? WHERE id=?", (self._text(r["text"]), sid)).rowcount
        if op == "identity":
            return db.execute("UPDATE sessions SET agent_id=coalesce(?, agent_id), case_id=coalesce(?, case_id)"
                              " WHERE id=?", (r["agent_id"], r["case_id"], sid)).rowcount
        if op == "used":
            if r["kind"] == "faq":
                sql = "UPDATE faq_hits SET used=1 WHERE session_id=? AND faq_id=?"
            else:
                sql = "UPDATE suggestions SET used=1 WHERE session_id=? AND text=?"
            return db.execute(sql, (sid, r["ref"])).rowcount
        # ack: acknowledged already (a journal replayed twice) counts as done, not as "not stored yet"
        row = db.execute(
            "SELECT w.id, w.acknowledged FROM warnings w JOIN utterances u ON u.id = w.utterance_id"
            " WHERE w.session_id=? AND w.rule_id=? AND u.segment=? ORDER BY w.acknowledged, w.id LIMIT 1",
            (sid, r["rule_id"], r["segment"])).fetchone()
        if row is None:
            return 0
        if not row[1]:
            db.execute("UPDATE warnings SET acknowledged=1, acknowledged_at=? WHERE id=?", (r["at"], row[0]))
        return 1

    # direct writes, for tests and tools; the live path goes through SessionRecorder

    def _apply_utterance(self, record: dict) -> int:
        uid = self.apply(record)
        assert uid is not None  # an utterance record always yields its row id
        return uid

    def begin_session(self, event: CallStarted, owner_pid: int | None = None, kind: str = "live") -> None:
        self.apply(writes.begin(event, f"direct-{uuid.uuid4().hex}", owner_pid or os.getpid(), kind))

    def record_final(self, session_id: str, result: AssistResult, *, stage_changed: bool = False,
                     new_suggestions: Iterable[Suggestion] = (), stages_done: tuple[int, ...] | None = None,
                     playbook_id: str | None = None, recorded_at: float | None = None) -> int:
        """Store one final utterance with what was shown for it, in one transaction; return its row id."""
        return self._apply_utterance(writes.utterance(
            session_id, result, f"direct-{uuid.uuid4().hex}",
            recorded_at=recorded_at if recorded_at is not None else time.time(), stage_changed=stage_changed,
            new_suggestions=list(new_suggestions), stages_done=stages_done, playbook_id=playbook_id))

    def record_call_event(self, session_id: str, event: AudioGap | DeviceProblem | ListeningResumed,
                          recorded_at: float | None = None) -> None:
        self.apply(writes.call_event(session_id, event, f"direct-{uuid.uuid4().hex}",
                                     recorded_at=recorded_at if recorded_at is not None else time.time()))

    def end_session(self, session_id: str, ended_at: float, interrupted: bool = False) -> None:
        self.apply({"op": "end", "key": "", "sid": session_id, "ended_at": ended_at, "interrupted": interrupted})

    # -- review: reads ------------------------------------------------------------------------

    @property
    def is_demo_store(self) -> bool:
        """The separate demo store (paths.demo_db_path): everything in it is a demo call."""
        from assist.store.paths import DEMO_FILENAME

        return self.path.name == DEMO_FILENAME

    def _demo_filter(self, include_demo: bool | None) -> str:
        # demo calls are left out of lists, counts and stats unless asked for (or this is the demo store)
        include = self.is_demo_store if include_demo is None else include_demo
        return "" if include else " WHERE s.kind != 'demo'"

    def count_sessions(self, include_demo: bool | None = None) -> int:
        return self._reader().execute(
            "SELECT count(*) FROM sessions s" + self._demo_filter(include_demo)).fetchone()[0]

    def list_sessions(self, limit: int = 50, offset: int = 0, include_demo: bool | None = None) -> list[dict]:
        """Newest first: id, started_at, ended_at, duration_s, status, playbook_id, model, kind,
        agent_id, case_id, n_utterances, n_warnings, n_critical, has_notes. Demo calls (kind 'demo', shown as 演示)
        only with ``include_demo`` (default: only in the demo store)."""
        rows = self._query(
            "SELECT s.id, s.started_at, s.ended_at, s.status, s.playbook_id, s.model, s.kind, s.agent_id, s.case_id,"
            " (SELECT max(coalesce(u.end_s, u.start_s)) FROM utterances u WHERE u.session_id=s.id) AS speech_end_s,"
            " (SELECT count(*) FROM utterances u WHERE u.session_id=s.id) AS n_utterances,"
            " (SELECT count(*) FROM warnings w WHERE w.session_id=s.id) AS n_warnings,"
            " (SELECT count(*) FROM warnings w WHERE w.session_id=s.id AND w.severity='critical') AS n_critical,"
            " (coalesce(s.notes,'') != '') AS has_notes"
            " FROM sessions s" + self._demo_filter(include_demo) + " ORDER BY s.started_at DESC, s.id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        from assist.store.summary import call_duration  # see summary()

        for r in rows:
            r["duration_s"] = call_duration(r["started_at"], r["ended_at"], r.pop("speech_end_s"))
        return rows

    def sessions_saying(self, text: str) -> set[str]:
        """Ids of the sessions where someone said ``text`` (or it is in the notes), for review's search."""
        needle = f"%{text}%"
        rows = self._query("SELECT DISTINCT session_id AS id FROM utterances WHERE text LIKE ?"
                           " UNION SELECT id FROM sessions WHERE notes LIKE ?", (needle, needle))
        return {r["id"] for r in rows}

    def resolve_id(self, id_or_prefix: str) -> str:
        """The full id of the one session whose id is, or starts with, ``id_or_prefix``."""
        prefix = (id_or_prefix or "").strip()
        if not prefix:
            raise StoreError("没有给出会话编号")
        rows = self._reader().execute(
            "SELECT id FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
            (prefix, prefix + "\U0010ffff"),
        ).fetchall()
        ids = [r[0] for r in rows]
        if prefix in ids:
            return prefix
        if not ids:
            raise StoreError(f"{self.path} 中没有编号为 {prefix!r} 的会话（用 assist sessions list 查看）")
        if len(ids) > 1:
            more = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            raise StoreError(f"会话编号 {prefix!r} 不唯一：以它开头的有 {more}；请多写几位")
        return ids[0]

    def get_session(self, session_id: str) -> dict:
        """The session row (devices and stages_done decoded); unknown id or prefix -> StoreError."""
        sid = self.resolve_id(session_id)
        row = _row(self._reader().execute("SELECT * FROM sessions WHERE id=?", (sid,)).fetchone())
        if row is None:  # deleted between resolve and read
            raise StoreError(f"没有编号为 {sid!r} 的会话")
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

    def party_settings(self, session_id: str) -> list[dict]:
        """The agent's own settings of who was on the line (F7), in order: before_line, kind, relation."""
        sid = self.resolve_id(session_id)
        return self._query("SELECT before_line, kind, relation, at_s FROM party_settings WHERE session_id=?"
                           " ORDER BY id", (sid,))

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
                "party_settings": self.party_settings(sid),
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
        # imported here: the summary's promise parsing loads cn2an (a quarter of a second), which
        # opening the store for a call must not wait for (the panel warms it up after opening)
        from assist.store.summary import build_summary

        bundle = self.bundle(session_id)
        if bundle["session"].get("transcript_removed_at"):  # retention kept only the summary made then
            row = self._reader().execute("SELECT summary FROM summaries WHERE session_id=?",
                                         (bundle["session"]["id"],)).fetchone()
            if row is not None:
                kept = json.loads(row[0])
                kept["notes"] = bundle["session"].get("notes") or kept.get("notes", "")
                kept["status"] = bundle["session"]["status"]
                return kept
        return build_summary(bundle, kb if kb is not None else self._knowledge_base())

    def export(self, session_id: str, fmt: str = "markdown", unmask: bool = False, kb=None,
               bom: bool = True) -> str:
        """The session as 'markdown', 'json' or 'csv' text; numbers masked unless ``unmask``;
        CSV with a UTF-8 BOM unless ``bom`` is False."""
        from assist.store.export import export_session

        bundle = self.bundle(session_id)
        summary = None if fmt == "csv" else self.summary(session_id, kb=kb)
        text = export_session(bundle, summary, fmt, unmask=unmask, bom=bom)
        # personal data leaves the store here: recorded before it is handed out (no audit row, no export)
        sid = bundle["session"]["id"]
        self.audit("export", f"会话 {sid}（{fmt}{'，未遮盖号码' if unmask else ''}）", len(bundle["utterances"]))
        return text

    # -- review: writes -------------------------------------------------------------------------

    def set_call_identity(self, session_id: str, agent_id: str | None = None, case_id: str | None = None) -> None:
        """Record who took the call and the case it is about (``None`` leaves a field as it is)."""
        sid = self.resolve_id(session_id)
        if agent_id is not None:
            self._write(lambda db: db.execute("UPDATE sessions SET agent_id=? WHERE id=?", (agent_id, sid)))
        if case_id is not None:
            self._write(lambda db: db.execute("UPDATE sessions SET case_id=? WHERE id=?", (case_id, sid)))

    def set_notes(self, session_id: str, text: str) -> None:
        sid = self.resolve_id(session_id)
        text = self._text(text)  # an agent types numbers into notes too: masked like utterances
        # a lone surrogate (pasted from a broken source) cannot be stored as UTF-8: replace it, keep the rest
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
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
        arg: str | int = text_or_row_id
        if isinstance(text_or_row_id, int):
            sql = "UPDATE suggestions SET used=? WHERE session_id=? AND id=?"
        else:
            sql = "UPDATE suggestions SET used=? WHERE session_id=? AND text=?"
        return self._write(lambda db: db.execute(sql, (int(used), sid, arg)).rowcount)

    def mark_faq_used(self, session_id: str, faq_id: str, used: bool = True) -> int:
        """Mark an FAQ answer the agent actually read out; return rows changed."""
        sid = self.resolve_id(session_id)
        return self._write(lambda db: db.execute(
            "UPDATE faq_hits SET used=? WHERE session_id=? AND faq_id=?", (int(used), sid, faq_id)).rowcount)

    def delete(self, session_id: str, who: str | None = None) -> None:
        """Delete one session and everything recorded for it; audited."""
        sid = self.resolve_id(session_id)

        def op(db):
            rows = self._rows_of(db, [sid])
            self._delete_ids(db, [sid])
            self._audit(db, "delete", f"会话 {sid}", rows + 1, who)
        self._write(op)

    def sessions_older_than(self, older_than: timedelta, now: float | None = None) -> list[dict]:
        """What ``purge(older_than)`` would delete (id, started_at, kind, n_utterances), oldest first."""
        cutoff = (now if now is not None else time.time()) - older_than.total_seconds()
        return self._query(
            "SELECT s.id, s.started_at, s.kind, (SELECT count(*) FROM utterances u WHERE u.session_id=s.id)"
            " AS n_utterances FROM sessions s WHERE s.started_at < ? ORDER BY s.started_at", (cutoff,))

    def purge(self, older_than: timedelta, now: float | None = None, who: str | None = None) -> int:
        """Delete sessions that started more than ``older_than`` ago; return how many; audited."""
        try:
            cutoff = (now if now is not None else time.time()) - older_than.total_seconds()
        except OverflowError:
            raise StoreError("清理时间太长，无法计算（请写一个合理的时间，如 730d）") from None

        def op(db):
            ids = [r[0] for r in db.execute("SELECT id FROM sessions WHERE started_at < ?", (cutoff,)).fetchall()]
            rows = self._rows_of(db, ids)
            self._delete_ids(db, ids)
            if ids:
                days = older_than.total_seconds() / 86400
                self._audit(db, "purge", f"删除早于 {days:g} 天的 {len(ids)} 个会话", rows + len(ids), who)
            return len(ids)
        return self._write(op)

    # -- audit, retention ----------------------------------------------------------------------

    @staticmethod
    def who() -> str:
        """Who is acting, for the audit table: the OS account and the machine."""
        import getpass
        import socket

        try:
            user = getpass.getuser()
        except Exception:  # no login name (some containers): still say something true
            user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "未知用户"
        return f"{user}@{socket.gethostname()}"

    @staticmethod
    def _audit(db, action: str, what: str, rows: int, who: str | None = None) -> None:
        # in the caller's transaction: the action and its audit row commit together or not at all
        db.execute("INSERT INTO audit (at, who, action, what, rows) VALUES (?,?,?,?,?)",
                   (time.time(), who or SessionStore.who(), action, what, int(rows)))

    def audit(self, action: str, what: str, rows: int = 0, who: str | None = None) -> None:
        """Append one audit row (export, delete, purge, recover, rekey, key export, retention)."""
        self._write(lambda db: self._audit(db, action, what, rows, who))

    def audit_entries(self, limit: int = 100) -> list[dict]:
        """Newest first: id, at, who, action, what, rows."""
        return self._query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))

    def _rows_of(self, db, ids: list[str]) -> int:
        n = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            n += db.execute(f"SELECT count(*) FROM utterances WHERE session_id IN ({marks})", chunk).fetchone()[0]
        return n

    def apply_retention(self, strip_ids: list[str], delete_ids: list[str], why: str, who: str | None = None,
                        kb=None) -> None:
        """Replace the transcripts of ``strip_ids`` by their summaries and remove ``delete_ids``; audited."""
        summaries = {}
        for sid in strip_ids:  # read before the write transaction: summary() reads through the reader
            summaries[sid] = json.dumps(self.summary(sid, kb=kb), ensure_ascii=False, default=str)

        def op(db):
            now = time.time()
            stripped = self._rows_of(db, strip_ids)
            for sid, doc in summaries.items():
                db.execute("INSERT OR REPLACE INTO summaries (session_id, summary, made_at) VALUES (?,?,?)",
                           (sid, doc, now))
                for table in ("faq_hits", "suggestions", "warnings", "stages", "utterances"):
                    db.execute(f"DELETE FROM {table} WHERE session_id=?", (sid,))
                db.execute("UPDATE sessions SET transcript_removed_at=? WHERE id=?", (now, sid))
            deleted = self._rows_of(db, delete_ids)
            self._delete_ids(db, delete_ids)
            if strip_ids:
                self._audit(db, "retention", f"{len(strip_ids)} 个通话的完整记录到期，只保留摘要（{why}）",
                            stripped, who)
            if delete_ids:
                self._audit(db, "retention", f"{len(delete_ids)} 个通话到期整条删除（{why}）",
                            deleted + len(delete_ids), who)
        self._write(op)

    @staticmethod
    def _delete_ids(db: sqlite_utils.Database, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for table in CHILD_TABLES:
                db.execute(f"DELETE FROM {table} WHERE session_id IN ({marks})", chunk)
            db.execute(f"DELETE FROM sessions WHERE id IN ({marks})", chunk)
