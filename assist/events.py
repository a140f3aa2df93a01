"""Typed events that flow one way through assist.

    audio (AudioLevel, AudioGap, DeviceProblem)
      -> recognizer (Utterance, partial and final)
      -> engine (AssistResult: FAQ hits, stage, suggestions, warnings)
      -> panel and store (StoreProblem comes back from the store as a status)

Every event is a frozen dataclass so it can cross threads safely and be
compared in tests. Nothing here imports Qt or does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Speaker = Literal["agent", "customer", "unknown"]
SPEAKERS: tuple[str, ...] = ("agent", "customer", "unknown")
Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")


@dataclass(frozen=True)
class Word:
    """One recognized word with its times (seconds from call start) and confidence."""

    text: str
    start: float
    end: float
    confidence: float = 1.0


@dataclass(frozen=True)
class Utterance:
    """What someone said, as the recognizer (or a transcript file) gives it.

    ``segment`` identifies one utterance on one channel: partial results for
    the same stretch of speech share it, and the final result closes it, so a
    view can replace a growing partial in place.
    """

    speaker: Speaker
    text: str
    start: float | None = None
    end: float | None = None
    final: bool = True
    segment: str = ""
    confidence: float | None = None
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class FaqHit:
    """A knowledge-base answer for what the customer just asked."""

    faq_id: str
    question: str
    answer: str
    score: float
    shown: bool
    matched: str = ""  # the question or paraphrase that matched best


@dataclass(frozen=True)
class StageState:
    """Where the agent is in the call script (``index`` is 1-based)."""

    playbook_id: str
    index: int
    stage_id: str
    title: str


@dataclass(frozen=True)
class Suggestion:
    """A script line to say next."""

    text: str
    stage_index: int
    kind: Literal["current_stage", "next_stage", "opening", "closing"]
    line_id: str = ""


@dataclass(frozen=True)
class ComplianceWarning:
    """A compliance rule that the utterance broke (or a required step it skipped)."""

    rule_id: str
    severity: Severity
    title: str
    message: str  # what to say instead
    source: str
    span: tuple[int, int]  # character offsets into Utterance.text
    said: str  # the text inside the span
    # Why it fired: the matched words for a pattern (found_by "pattern"), the rule's trigger
    # example the line is most like for the example detector ("example", shown as 相似：…),
    # the call's circumstances for a sequence rule ("sequence").
    evidence: str = ""
    found_by: str = "pattern"


@dataclass(frozen=True)
class AssistResult:
    """The engine's answer to one utterance."""

    utterance: Utterance
    faq: tuple[FaqHit, ...] = ()
    stage: StageState | None = None
    suggestions: tuple[Suggestion, ...] = ()
    warnings: tuple[ComplianceWarning, ...] = ()
    stages_done: tuple[int, ...] = ()  # 1-based stage indexes covered so far
    playbook_id: str | None = None
    elapsed_ms: float = 0.0
    # one-off messages for the agent about the engine itself (Chinese), e.g. that the
    # sentence encoder failed and matching goes on by wording alone
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CardWithdrawn:
    """A card or warning shown from a partial result that the final result did not confirm.

    Published right after the final's ``AssistResult``, so a view that already
    replaced the card from that result has nothing to do; otherwise it takes the
    card off (an FAQ answer that is still showing ``key``, a warning of rule
    ``key`` from ``segment`` not yet acknowledged). ``shown_for`` is how long
    (seconds of call audio) it was on screen.
    """

    segment: str
    speaker: Speaker
    kind: Literal["faq", "warning"]
    key: str  # faq_id or rule_id
    replaced_by: str = ""  # the FAQ the final shows instead, if any
    shown_for: float = 0.0


@dataclass(frozen=True)
class AudioLevel:
    """Input level of one channel, for the panel's meter (``rms`` is 0..1)."""

    channel: Speaker
    rms: float
    peak: float = 0.0


@dataclass(frozen=True)
class AudioGap:
    """A stretch of call time with no audio from a channel (device lost, overflow)."""

    channel: Speaker
    start: float
    end: float
    reason: str


@dataclass(frozen=True)
class DeviceProblem:
    """The capture side cannot do what it was asked; ``fix`` tells the user what to do."""

    channel: Speaker | None
    message: str
    fix: str = ""
    recovered: bool = False


@dataclass(frozen=True)
class StoreProblem:
    """The session store could not write (disk full, read-only); data is buffered."""

    message: str
    pending: int = 0
    recovered: bool = False
    fix: str = ""  # what the agent can do, in Chinese ("" -> the view's generic advice)
    set_aside: int = 0  # records the store refused even sanitised, kept in the journal with a reason


@dataclass(frozen=True)
class CallStarted:
    """A call began: the store opens a session, the panel clears."""

    session_id: str
    playbook_id: str | None
    started_at: float  # Unix time
    devices: dict = field(default_factory=dict)
    model: str = ""
    kb_version: str = ""
    demo: bool = False  # a demo or training call: stored apart from real calls (marked 演示)


@dataclass(frozen=True)
class CallEnded:
    """A call ended, normally (``interrupted`` False) or not."""

    session_id: str
    ended_at: float
    interrupted: bool = False
