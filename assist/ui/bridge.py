"""The one door from worker threads into the GUI: a Call subscriber that only emits signals.

``Call`` runs its subscribers on recognizer and demo worker threads; widgets
must only be touched on the GUI thread. ``EventBridge`` lives on the GUI thread
and is subscribed to the call; ``__call__`` (worker thread) does nothing but
emit a signal carrying the frozen event, and Qt queues it to the GUI thread
where the panel's slots run. Each signal carries one kind of event so slots
stay typed and simple.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from assist.events import (
    AssistResult,
    AudioGap,
    AudioLevel,
    CallEnded,
    CardWithdrawn,
    CallStarted,
    ContactLimit,
    DeviceProblem,
    ListeningPaused,
    ListeningResumed,
    PartyChanged,
    StoreProblem,
)


class EventBridge(QObject):
    """Carries assist.events objects from any thread to slots on the GUI thread."""

    call_started = Signal(object)  # CallStarted
    call_ended = Signal(object)  # CallEnded
    result = Signal(object, float)  # AssistResult, time.perf_counter() when emitted (for the bench)
    level = Signal(object)  # AudioLevel
    gap = Signal(object)  # AudioGap
    device_problem = Signal(object)  # DeviceProblem
    store_problem = Signal(object)  # StoreProblem
    withdrawn = Signal(object)  # CardWithdrawn
    party = Signal(object)  # PartyChanged (the agent's own setting)
    contacts = Signal(object)  # ContactLimit (the contact ledger at call start)
    paused = Signal(object)  # ListeningPaused or ListeningResumed (Ctrl+P on a live call)
    other = Signal(object)  # anything else a newer core may publish

    _ROUTES = (
        (AssistResult, "result"),
        (AudioLevel, "level"),
        (CallStarted, "call_started"),
        (CallEnded, "call_ended"),
        (AudioGap, "gap"),
        (DeviceProblem, "device_problem"),
        (StoreProblem, "store_problem"),
        (CardWithdrawn, "withdrawn"),
        (PartyChanged, "party"),
        (ContactLimit, "contacts"),
        (ListeningPaused, "paused"),
        (ListeningResumed, "paused"),
    )

    def __call__(self, event: object) -> None:
        """Call subscriber; runs on whatever thread published. Emits only: never touches widgets."""
        for kind, name in self._ROUTES:
            if isinstance(event, kind):
                if name == "result":
                    self.result.emit(event, time.perf_counter())
                else:
                    getattr(self, name).emit(event)
                return
        self.other.emit(event)
