"""SessionRecorder: a Call subscriber that records the call without ever holding it up.

``recorder(event)`` runs on the caller's thread (recognizer workers, via
``Call.publish``): it turns the event into a write record (writes.py: a few
dicts, no I/O) and puts it on a queue. The recorder's own writer thread
("assist-recorder") applies the records to the store in order, each final
utterance (with what was shown for it) in its own transaction. The engine and
the panel never wait on SQLite.

When the store cannot take a write (another program holds its lock, the disk is
full, the file is read-only), the writer keeps the records, retries every
``RETRY_EVERY_S``, and after ``SPILL_AFTER_S`` (or ``MEMORY_LIMIT`` records) moves
them to the journal beside the store (spool.py, encrypted, fsynced): memory stays
bounded and nothing is dropped. When the store works again the journal is
replayed first, then the rest, in order. ``on_problem`` gets a StoreProblem in
Chinese saying what is happening and what to do (once when the outage starts,
once if the journal is used, once when everything is saved again).

One record the database refuses (a lone surrogate, a value it cannot bind) is
stored sanitised (U+FFFD for the bad characters, ``sanitised=1`` on the row); if
it is still refused it is set aside in the journal with its reason, reported,
and the rest of the call is stored. ``close()`` returns how many records are not
in the store (0: everything saved) and ``set_aside`` counts the refused ones:
callers turn those into a message and an exit code.

``on_problem`` runs on the writer thread, outside every lock, so it may publish
on the same Call (the recorder ignores StoreProblem events).

The panel's writes go the same way: ``save_notes``, ``acknowledge``,
``mark_used`` and ``set_identity`` (GUI thread) only build a record and queue it,
never touching SQLite, so a locked store cannot stall the panel; they are
journalled and replayed like utterances. A record whose row is not stored yet
(a warning acknowledged on a partial) waits in the writer and is retried after
the session's next utterances; an acknowledgement is given up once the final of
its segment is stored without that warning (the engine withdrew it), the rest
when the next call begins. ``on_done(saved, message)`` (writer thread: hand it
to the GUI with a queued signal) says when notes are in the store, or that they
wait in the journal because the store refuses writes.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
from collections import deque
from typing import Callable

from assist.events import (
    AssistResult,
    AudioGap,
    CallEnded,
    CallStarted,
    DeviceProblem,
    ListeningResumed,
    PartyChanged,
    StoreProblem,
)
from assist.store import driver, writes
from assist.store.errors import SetAside, StoreError
from assist.store.spool import Spool, replay, spool_path
from assist.store.store import SessionStore

log = logging.getLogger(__name__)

RETRY_EVERY_S = 0.25
SPILL_AFTER_S = 1.0
MEMORY_LIMIT = 500
WRITER_BUSY_MS = 200  # a locked store fails a write after this long, so the writer can spill and retry
RETENTION_EVERY_S = 86400.0  # the retention policy runs when the recorder starts, then daily
IDLE_WAKE_S = 60.0
_STOP = object()


class SessionRecorder:
    def __init__(self, store: SessionStore, on_problem: Callable[[StoreProblem], None] | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.on_problem = on_problem
        self._clock = clock
        self._lock = threading.Lock()  # bookkeeping of the caller threads only; never held during I/O
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._token = uuid.uuid4().hex[:10]
        self._submitted = 0
        self._saved = 0  # records now in the store (or refused and set aside)
        self._durable = 0  # highest seq that is in the store or in the journal
        self._done = threading.Condition()
        self._spool = Spool(spool_path(store.path), store._key)
        self._spool_pending = 0
        self._on_done: dict[str, Callable[[bool, str], None]] = {}  # record key -> panel callback
        self._told_waiting: set[str] = set()  # keys whose callback heard "journalled, not in the store yet"
        self._unmatched: list[dict] = []  # panel records whose rows are not stored yet (writer thread only)
        self.set_aside = 0
        self.sanitised = 0
        self._trouble_since: float | None = None
        self._spill_reported = False
        self._closed = False
        self._next_retention = 0.0  # at start
        # set once the first housekeeping (background integrity check, retention) has run; tests wait on it
        self.checked = threading.Event()
        self.retention_problem: str | None = None
        self.session_id: str | None = None
        self._reset_call_state()
        store.set_busy_timeout(WRITER_BUSY_MS)
        self._thread = threading.Thread(target=self._run, name="assist-recorder", daemon=True)
        self._thread.start()

    def _reset_call_state(self) -> None:
        self._last_stage: tuple[str, int] | None = None
        self._shown_suggestions: set[str] = set()
        self._stages_done: tuple[int, ...] = ()
        self._playbook_id: str | None = None
        self._lines = 0  # transcript lines recorded in this call (where an agent's party setting sits)

    @property
    def pending(self) -> int:
        """Records not yet in the store (queued, in memory or in the journal)."""
        with self._done:
            return self._submitted - self._saved

    @property
    def spool_path(self):
        return self._spool.path

    # -- caller threads ------------------------------------------------------------------------

    def __call__(self, event: object) -> None:
        """Queue what ``event`` means for the store (recognizer worker thread; never blocks on I/O)."""
        if isinstance(event, (StoreProblem,)) or type(event).__name__ == "AudioLevel":
            return
        with self._lock:
            if self._closed:
                return
            record = self._record_for(event)
            if record is None:
                return
            with self._done:
                self._submitted += 1
                seq = self._submitted
            self._inbox.put((seq, record))

    # the panel's writes (GUI thread): a record on the queue, nothing else

    def save_notes(self, session_id: str, text: str,
                   on_done: Callable[[bool, str], None] | None = None) -> bool:
        """Queue the call's notes (replacing earlier ones); False if the recorder is closed."""
        return self._submit(lambda n: writes.notes(session_id, text, self._key(f"p{n}")), on_done)

    def acknowledge(self, session_id: str, rule_id: str, segment: str,
                    on_done: Callable[[bool, str], None] | None = None) -> bool:
        """Queue the agent's acknowledgement of the ``rule_id`` warning on utterance ``segment``."""
        at = self._clock()
        return self._submit(lambda n: writes.acknowledge(session_id, rule_id, segment, self._key(f"p{n}"), at=at),
                            on_done)

    def mark_used(self, session_id: str, kind: str, ref: str) -> bool:
        """Queue "the agent used this": an FAQ answer (``kind`` 'faq', ``ref`` its id) or a line (its text)."""
        return self._submit(lambda n: writes.used(session_id, kind, ref, self._key(f"p{n}")), None)

    def set_identity(self, session_id: str, agent_id: str | None, case_id: str | None) -> bool:
        """Queue the agent and case id of the call (``None`` leaves a field as it is)."""
        return self._submit(lambda n: writes.identity(session_id, agent_id, case_id, self._key(f"p{n}")), None)

    def _submit(self, build: Callable[[int], dict], on_done: Callable[[bool, str], None] | None) -> bool:
        with self._lock:
            if self._closed:
                return False
            with self._done:
                self._submitted += 1
                seq = self._submitted
            record = build(seq)
            if on_done is not None:
                self._on_done[record["key"]] = on_done
            self._inbox.put((seq, record))
        return True

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until everything queued so far is durable (in the store or the journal); True if so.

        For tests, benchmarks and shutdown; never called on a call's path.
        """
        with self._done:
            target = self._submitted
            return self._done.wait_for(lambda: self._durable >= target, timeout)

    def wait_saved(self, timeout: float | None = 10.0) -> bool:
        """Wait until everything queued so far is in the store itself (not only the journal)."""
        with self._done:
            target = self._submitted
            return self._done.wait_for(lambda: self._saved >= target, timeout)

    def close(self, timeout: float = 15.0) -> int:
        """Write what is queued (one last try, then the journal); return how many records are not in
        the store (0: all saved). Called when the app or command ends."""
        with self._lock:
            if self._closed:
                return self.pending
            self._closed = True
        self._inbox.put(_STOP)
        self._thread.join(timeout)
        left = self.pending + self.set_aside
        if self.pending:
            where = f"暂存文件 {self._spool.path}" if self._spool.exists() else "内存"
            self._report([StoreProblem(
                f"本次通话有 {left} 条记录没能写入通话记录库 {self.store.path}，已保留在{where}。",
                pending=left, set_aside=self.set_aside,
                fix="下次打开 assist 时会自动补写；若仍失败，请把该文件交给技术支持。")])
        return left

    def _key(self, seq_hint: str) -> str:
        return f"{self._token}-{seq_hint}"

    def _record_for(self, event: object) -> dict | None:
        now = self._clock()
        n = self._submitted + 1
        if isinstance(event, CallStarted):
            self.session_id = event.session_id
            self._reset_call_state()
            self._playbook_id = event.playbook_id
            kind = "demo" if getattr(event, "demo", False) else "live"
            return writes.begin(event, self._key(f"{n}"), os.getpid(), kind)
        if isinstance(event, AssistResult):
            # an empty final only tells views to clear a partial that came to nothing
            if not event.utterance.final or self.session_id is None or not event.utterance.text.strip():
                return None
            stage_key = (event.stage.playbook_id, event.stage.index) if event.stage else None
            stage_changed = stage_key is not None and stage_key != self._last_stage
            if stage_key is not None:
                self._last_stage = stage_key
            new_sugg = [s for s in event.suggestions if s.text not in self._shown_suggestions]
            self._shown_suggestions.update(s.text for s in new_sugg)
            done = tuple(sorted(set(event.stages_done)))
            stages_done = done if done != self._stages_done else None
            self._stages_done = done
            playbook = event.playbook_id if event.playbook_id and event.playbook_id != self._playbook_id else None
            if playbook:
                self._playbook_id = playbook
            self._lines += 1
            return writes.utterance(self.session_id, event, self._key(f"{n}"), recorded_at=now,
                                    stage_changed=stage_changed, new_suggestions=new_sugg,
                                    stages_done=stages_done, playbook_id=playbook)
        if isinstance(event, (AudioGap, DeviceProblem, ListeningResumed)):  # a pause: one row when it ends
            if self.session_id is None:
                return None
            return writes.call_event(self.session_id, event, self._key(f"{n}"), recorded_at=now)
        if isinstance(event, PartyChanged):
            # only the agent's own word is stored: inferred states are re-derived from the transcript
            if self.session_id is None or event.party.source != "agent":
                return None
            return writes.party(self.session_id, event, self._key(f"{n}"), before_line=self._lines, recorded_at=now)
        if isinstance(event, CallEnded):
            sid = event.session_id or self.session_id
            return writes.end(event, sid, self._key(f"{n}")) if sid else None
        return None

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        backlog: deque[tuple[int, dict]] = deque()
        stopping = False
        while True:
            waiting = bool(backlog) or self._spool_pending > 0
            try:
                item = self._inbox.get(timeout=RETRY_EVERY_S if waiting else IDLE_WAKE_S) if not stopping else None
            except queue.Empty:
                item = None
            while item is not None:
                if item is _STOP:
                    stopping = True
                else:
                    backlog.append(item)
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    item = None
            try:
                self._pump(backlog, final=stopping)
            except Exception:  # never let the writer die: what is queued stays queued
                log.exception("session recorder: unexpected error")
                if stopping:
                    self._spill(backlog)
            if stopping:
                self._spool.close()
                return
            if not backlog and not self._spool_pending:
                self._maybe_apply_retention()

    def _check_once(self) -> None:
        """A big store had only the light check at open: run the full one now, in the background."""
        self._checked = True
        self._full_check()

    def _full_check(self) -> None:
        from assist.store.connection import FULL_CHECK_MAX_BYTES, integrity_problem
        from assist.store.opening import needs_full_check

        try:
            if self.store.path.stat().st_size <= FULL_CHECK_MAX_BYTES:
                return  # open_store checked it fully already
            problem = integrity_problem(self.store._reader())
        except (OSError, StoreError) + driver.DatabaseError as e:
            problem = str(e)
        if problem:
            needs_full_check(self.store.path, True)
            self._report([StoreProblem(
                f"通话记录库 {self.store.path} 有损坏的部分（{problem}）。本次通话照常记录。",
                fix="通话结束后关闭并重新打开 assist：损坏的文件会被原样移开并新建记录库；"
                    "然后运行 assist sessions recover 救回旧记录。")])

    _checked = False

    def _maybe_apply_retention(self) -> None:
        """The integrity check once, the retention policy at start and daily, between writes (writer thread)."""
        try:
            if not self._checked:
                self._check_once()
            self._apply_retention()
        finally:
            self.checked.set()

    def _apply_retention(self) -> None:
        if time.monotonic() < self._next_retention:
            return
        self._next_retention = time.monotonic() + RETENTION_EVERY_S
        from assist.store import retention

        try:
            retention.apply(self.store, retention.load_policy(), who="自动（保留策略）")
            self.retention_problem = None
        except driver.OperationalError as e:  # busy or full right now: try again in an hour
            self._next_retention = time.monotonic() + 3600
            log.warning("retention not applied now: %s", e)
        except StoreError as e:  # a bad setting: say so once, keep recording
            self.retention_problem = str(e)
            self._report([StoreProblem(f"保留策略没有执行：{e}", fix="修正保留策略设置（见说明文档“保留策略”）；通话照常记录。")])
        except Exception:  # never let housekeeping stop recording
            log.exception("retention failed")

    def _mark(self, seq: int | None = None, saved: int = 0) -> None:
        with self._done:
            if seq is not None:
                self._durable = max(self._durable, seq)
            self._saved += saved
            self._done.notify_all()

    def _apply(self, record: dict) -> None:
        """Write one record (from memory or the journal); then the panel records waiting for its rows."""
        sanitise = writes.needs_sanitising(record)
        result = self.store.apply(record)
        op = record.get("op")
        if op in writes.PANEL_OPS:
            if result:
                self._finished(record, True)
            else:  # its row is not stored yet: after the session's next utterance
                self._unmatched.append(record)
        elif op == "utterance" and self._unmatched:
            self._retry_unmatched(record["sid"], record["u"]["segment"])
        elif op == "begin" and self._unmatched:  # a new call: what the last one never matched is given up
            for r in self._unmatched:
                self._finished(r, False, "这次通话没有存入通话记录库，未能保存")
            self._unmatched = []
        if sanitise:
            self.sanitised += 1
            self._report([StoreProblem(
                f"{writes.describe(record)}含有无法保存的字符，已替换为“\ufffd”后保存；本次通话其余内容照常保存。",
                fix="无需处理；如需核对原话，请查看录音。")])

    def _retry_unmatched(self, sid: str, segment: str) -> None:
        waiting, self._unmatched = self._unmatched, []
        for r in waiting:
            if r["sid"] != sid:
                self._unmatched.append(r)
                continue
            try:
                changed = self.store.apply(r)
            except driver.OperationalError + (StoreError,):  # store refuses again: the next utterance retries
                self._unmatched.append(r)
                continue
            except SetAside as e:
                log.warning("panel write %s dropped: %s", r.get("op"), e)
                self._finished(r, False, f"数据库拒绝保存：{e}")
                continue
            if changed:
                self._finished(r, True)
            elif not (r["op"] == "ack" and r["segment"] == segment):
                self._unmatched.append(r)
            # else: the final of that segment is stored without the warning: the engine withdrew it

    def _finished(self, record: dict, saved: bool, message: str = "") -> None:
        key = record.get("key", "")
        self._told_waiting.discard(key)
        callback = self._on_done.pop(key, None)
        if callback is not None:
            self._call_back(callback, saved, message)

    def _tell_waiting(self, records) -> None:
        """Panel records held up by the outage: their callbacks hear it once (they are not lost)."""
        for r in records:
            key = r.get("key", "")
            callback = self._on_done.get(key)
            if callback is not None and key not in self._told_waiting:
                self._told_waiting.add(key)
                self._call_back(callback, False, "记录库暂时写不进去，已暂存，恢复后自动保存")

    @staticmethod
    def _call_back(callback: Callable[[bool, str], None], saved: bool, message: str) -> None:
        try:
            callback(saved, message)
        except Exception:  # a broken view must not stop recording
            log.exception("panel write callback failed")

    def _set_aside(self, record: dict, reason: str) -> None:
        self.set_aside += 1
        try:
            self._spool.add([record], status="set_aside", reason=reason)
            where = f"暂存文件 {self._spool.path}"
        except driver.DatabaseError + (OSError,):
            where = "内存（暂存文件也写不进去）"
        self._report([StoreProblem(
            f"有 {self.set_aside} 条记录（{writes.describe(record)}）无法写入通话记录库：{reason}。"
            f"它已单独保留在{where}，本次通话其余内容照常保存。",
            set_aside=self.set_aside, fix="请把该文件交给技术支持检查；不影响继续通话。")])

    def _pump(self, backlog: deque, *, final: bool) -> None:
        # the journal holds older records than memory: replay it first
        if self._spool_pending:
            try:
                done, aside = replay(self._spool, self._apply)
            except driver.OperationalError + (StoreError,) as e:
                self._trouble(e)
                self._tell_waiting(r for _, r in backlog)
                self._spill(backlog)
                return
            self.set_aside += aside
            self._spool_pending = 0
            self._mark(saved=done + aside)
        while backlog:
            seq, record = backlog[0]
            try:
                self._apply(record)
            except driver.OperationalError + (StoreError,) as e:
                self._trouble(e)
                self._tell_waiting(r for _, r in backlog)
                break
            except SetAside as e:
                self._set_aside(record, str(e))
                self._finished(record, False, f"数据库拒绝保存：{e}")
            backlog.popleft()
            self._mark(seq, saved=1)
        if not backlog and not self._spool_pending:
            if self._trouble_since is not None:
                self._trouble_since = None
                self._spill_reported = False
                self._report([StoreProblem(f"通话记录已恢复写入 {self.store.path}：暂存的内容已全部保存。",
                                           pending=0, recovered=True)])
            return
        if final or len(backlog) >= MEMORY_LIMIT or (
                self._trouble_since is not None and time.monotonic() - self._trouble_since >= SPILL_AFTER_S):
            self._spill(backlog)

    def _spill(self, backlog: deque) -> None:
        """Move every record waiting in memory to the journal (one fsynced transaction)."""
        if not backlog:
            return
        items = list(backlog)
        try:
            self._spool.add([r for _, r in items])
        except driver.DatabaseError + (OSError,) as e:  # journal refused too (same full disk): keep in memory
            log.warning("session recorder: journal %s not writable: %s", self._spool.path, e)
            return
        backlog.clear()
        self._spool_pending += len(items)
        self._mark(items[-1][0])
        if not self._spill_reported:
            self._spill_reported = True
            self._report([StoreProblem(
                f"通话记录库仍然写不进去，已把 {self._spool_pending} 条记录转存到暂存文件 {self._spool.path}"
                f"（已加密），之后说的话也会先存在这里；恢复后自动补写，不会丢失。",
                pending=self.pending, fix=self._fix)])

    def _trouble(self, error: BaseException) -> None:
        if self._trouble_since is not None:
            return
        self._trouble_since = time.monotonic()
        text = str(error).lower()
        path = self.store.path
        if driver.is_busy(error):
            what = f"通话记录库正被其他程序占用（{path}），暂时写不进去"
            self._fix = "关闭正在打开这个文件的程序（数据库查看器、备份或同步软件）；占用解除后会自动补写。"
        elif "full" in text:
            what = f"磁盘已满，通话记录暂时写不进去（{path}）"
            self._fix = "清理磁盘空间；有空间后会自动补写。"
        elif "readonly" in text or "read-only" in text or "read only" in text:
            what = f"通话记录库是只读的，暂时写不进去（{path}）"
            self._fix = "检查该文件及所在文件夹的写权限；恢复后会自动补写。"
        else:
            what = f"通话记录暂时写不进去（{path}：{error}）"
            self._fix = "检查磁盘和数据目录（ASSIST_DATA_DIR）；恢复后会自动补写。"
        log.warning("session store write failed: %s", error)
        self._report([StoreProblem(f"{what}。辅助照常进行，已说的话先暂存，不会丢失。",
                                   pending=self.pending, fix=self._fix)])

    _fix = ""

    def _report(self, reports: list[StoreProblem]) -> None:
        if self.on_problem is None:
            return
        for problem in reports:
            try:
                self.on_problem(problem)
            except Exception:  # a broken status view must not stop recording
                log.exception("on_problem callback failed")
