"""One call in progress: utterances go through the engine, every event goes to subscribers.

This is the one-way bus of the app: the audio side calls ``hear`` (partial and
final utterances) and ``publish`` (levels, gaps, device problems); the engine
turns each utterance into an ``AssistResult`` (partials pass through
``PartialStabiliser``, which throttles them and decides what a half-heard
sentence may show, and follows a final with ``CardWithdrawn`` when the final
takes a partial's card back); subscribers (the store's
recorder, the panel's signal bridge, the terminal view) receive every event in
order. Called from recognizer worker threads (one per channel), so the engine
runs under a lock; subscribers must be quick and must not touch Qt widgets.
"""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime
from typing import Callable

from assist.engine import AssistEngine
from assist.engine.partials import PartialStabiliser
from assist.events import AssistResult, CallEnded, CallStarted, PartyChanged, Utterance

Subscriber = Callable[[object], None]


class Call:
    def __init__(self, engine: AssistEngine, subscribers: tuple[Subscriber, ...] = (),
                 clock: Callable[[], float] = time.time):
        self.engine = engine
        self.partials = PartialStabiliser()
        self._subscribers: list[Subscriber] = list(subscribers)
        self._clock = clock
        self._lock = threading.RLock()
        self.session_id: str | None = None
        self.started_at: float | None = None

    def subscribe(self, fn: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(fn)

    def publish(self, event: object) -> None:
        """Send an event to every subscriber, in order; one failing subscriber does not stop the rest."""
        with self._lock:
            subscribers = list(self._subscribers)
        for fn in subscribers:
            try:
                fn(event)
            except Exception as e:  # a broken view must never end the call
                import logging

                logging.getLogger(__name__).exception("subscriber %r failed on %s: %s", fn, type(event).__name__, e)

    def start(self, *, session_id: str | None = None, devices: dict | None = None,
              model: str = "", started_at: float | None = None, demo: bool = False,
              case_id: str = "") -> CallStarted:
        with self._lock:
            self.started_at = started_at if started_at is not None else self._clock()
            self.session_id = session_id or uuid.uuid4().hex[:12]
            self.engine.reset(call_started_at=datetime.fromtimestamp(self.started_at))
            if devices:  # a customer or mixed channel carries the answers to "请问是XX本人吗"
                self.engine.customer_channel = bool({"customer", "unknown"} & set(devices))
            self.partials.reset()
            event = CallStarted(
                session_id=self.session_id,
                playbook_id=self.engine.fixed_playbook_id,
                started_at=self.started_at,
                devices=dict(devices or {}),
                model=model,
                kb_version=self.engine.kb.version,
                demo=demo,
                case_id=case_id,
            )
            self.publish(event)
            return event

    def hear(self, utterance: Utterance) -> AssistResult | None:
        """Run the engine on one utterance and publish its result (worker threads call this).

        Returns None for a partial the stabiliser skipped (unchanged, or over the
        per-speaker cap); finals are always evaluated and published.
        """
        with self._lock:
            if not self.partials.admit(utterance):
                return None
            result, withdrawn = self.partials.settle(self.engine.process(utterance))
            self.publish(result)
            for event in withdrawn:
                self.publish(event)
            return result

    def set_party(self, kind: str, relation: str = "") -> None:
        """The agent says who is on the line (the panel's key); subscribers get a PartyChanged."""
        with self._lock:
            state = self.engine.set_party(kind, relation)
            self.publish(PartyChanged(state))

    def end(self, interrupted: bool = False) -> CallEnded:
        with self._lock:
            event = CallEnded(session_id=self.session_id or "", ended_at=self._clock(), interrupted=interrupted)
            self.publish(event)
            return event
