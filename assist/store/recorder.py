"""SessionRecorder: a Call subscriber that writes the call into the SessionStore as it happens.

Each final utterance (with the FAQ answers, new script lines and warnings shown
for it, and any stage change) is committed in its own transaction the moment it
arrives, so a crash loses nothing said before it. Partial results are not stored.

When a write fails with an operational error (disk full, read-only file, I/O
error), the write is kept in an in-memory queue, ``on_problem`` gets one
``StoreProblem`` (the live view shows it; the call goes on), and the queue is
retried, in order, on every later event and on ``close()``. When it drains,
``on_problem`` gets ``StoreProblem(recovered=True)``.

Called from recognizer worker threads (through ``Call.publish``): one lock
serialises events; ``on_problem`` is called outside it, so it may publish on
the same Call (the recorder ignores StoreProblem events).
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from typing import Callable

from assist.events import AssistResult, AudioGap, AudioLevel, CallEnded, CallStarted, DeviceProblem, StoreProblem
from assist.store.errors import StoreError
from assist.store.store import SessionStore

log = logging.getLogger(__name__)
# AudioLevel arrives many times a second: retry a failing disk at most this often on it
LEVEL_RETRY_INTERVAL_S = 1.0


class SessionRecorder:
    def __init__(self, store: SessionStore, on_problem: Callable[[StoreProblem], None] | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.on_problem = on_problem
        self._clock = clock
        self._lock = threading.RLock()
        self._pending: deque[tuple[str, Callable[[], object]]] = deque()
        self._in_trouble = False
        self._last_try = 0.0
        self.session_id: str | None = None
        self._reset_call_state()

    def _reset_call_state(self) -> None:
        self._last_stage: tuple[str, int] | None = None
        self._shown_suggestions: set[str] = set()
        self._stages_done: tuple[int, ...] = ()
        self._playbook_id: str | None = None

    @property
    def pending(self) -> int:
        """Writes waiting in memory because the database could not take them."""
        with self._lock:
            return len(self._pending)

    def __call__(self, event: object) -> None:
        """Handle one event from the Call bus (recognizer worker thread)."""
        reports: list[StoreProblem] = []
        with self._lock:
            if isinstance(event, AudioLevel) or isinstance(event, StoreProblem):
                if self._pending and self._clock() - self._last_try >= LEVEL_RETRY_INTERVAL_S:
                    reports = self._flush()
            else:
                self._enqueue_for(event)
                reports = self._flush()
        self._report(reports)

    def close(self) -> int:
        """Write whatever is still buffered; return how many writes could not be saved (0: all saved)."""
        with self._lock:
            reports = self._flush()
            left = len(self._pending)
        self._report(reports)
        if left:
            self._report([StoreProblem(
                f"{left} item(s) of this call could not be saved to {self.store.path}", pending=left)])
        return left

    # -- internals (under self._lock) ---------------------------------------------------------

    def _enqueue_for(self, event: object) -> None:
        store = self.store
        now = self._clock()
        if isinstance(event, CallStarted):
            self.session_id = event.session_id
            self._reset_call_state()
            self._playbook_id = event.playbook_id
            pid = os.getpid()
            self._pending.append(("session start", lambda: store.begin_session(event, owner_pid=pid)))
        elif isinstance(event, AssistResult):
            # an empty final only tells views to clear a partial that came to nothing
            if not event.utterance.final or self.session_id is None or not event.utterance.text.strip():
                return
            sid = self.session_id
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
            self._pending.append(("utterance", lambda: store.record_final(
                sid, event, stage_changed=stage_changed, new_suggestions=new_sugg,
                stages_done=stages_done, playbook_id=playbook, recorded_at=now)))
        elif isinstance(event, (AudioGap, DeviceProblem)):
            if self.session_id is None:
                return
            sid = self.session_id
            self._pending.append(("call event", lambda: store.record_call_event(sid, event, recorded_at=now)))
        elif isinstance(event, CallEnded):
            sid = event.session_id or self.session_id
            if sid is None:
                return
            self._pending.append(("session end", lambda: store.end_session(sid, event.ended_at, event.interrupted)))

    def _flush(self) -> list[StoreProblem]:
        self._last_try = self._clock()
        while self._pending:
            what, op = self._pending[0]
            try:
                op()
            except (sqlite3.OperationalError, StoreError) as e:
                if self._in_trouble:
                    return []
                self._in_trouble = True
                log.warning("session store write failed (%s), %d pending: %s", what, len(self._pending), e)
                return [StoreProblem(
                    f"Cannot save the call to {self.store.path}: {e}. {len(self._pending)} item(s) kept in "
                    f"memory; retrying. Free disk space or fix the file's permissions.",
                    pending=len(self._pending))]
            except sqlite3.DatabaseError:
                # not a passing condition (e.g. a constraint): retrying cannot help, and
                # blocking the queue would lose everything after it
                log.exception("session store dropped a %s write", what)
            self._pending.popleft()
        if self._in_trouble:
            self._in_trouble = False
            return [StoreProblem(f"Saving the call works again; everything buffered was saved to "
                                 f"{self.store.path}.", pending=0, recovered=True)]
        return []

    def _report(self, reports: list[StoreProblem]) -> None:
        if self.on_problem is None:
            return
        for problem in reports:
            try:
                self.on_problem(problem)
            except Exception:  # a broken status view must not stop recording
                log.exception("on_problem callback failed")
