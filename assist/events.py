"""Typed events that flow one way through assist.

    audio (AudioLevel, AudioGap, DeviceProblem, ListeningPaused/Resumed)
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
SPEAKER_LABELS = {"agent": "坐席", "customer": "客户", "unknown": "通话"}  # as messages name a channel; unknown: one mixed channel
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


PartyKind = Literal["unknown", "debtor", "third_party", "refused"]
PARTY_KINDS: tuple[str, ...] = ("unknown", "debtor", "third_party", "refused")
# who a third party is to the debtor ("other": someone else answered, e.g. 他不在)
PARTY_RELATIONS: tuple[str, ...] = ("family", "colleague", "friend", "wrong_number", "other")


@dataclass(frozen=True)
class PartyState:
    """Who is on the line, as far as the call shows (see ``assist.engine.party``).

    ``source`` is ``inferred`` (from the customer's answers) or ``agent`` (set by a key
    in the panel; the agent's word stands until they change it). ``evidence`` is the
    customer line the inference rests on, ``at_index`` its utterance number in the call.
    """

    kind: PartyKind = "unknown"
    relation: str = ""  # one of PARTY_RELATIONS when kind is third_party
    source: Literal["inferred", "agent", "none"] = "none"
    evidence: str = ""
    at_index: int | None = None

    @property
    def label(self) -> str:
        """The Chinese name the panel and reports show."""
        if self.kind == "third_party":
            return "第三人（" + _RELATION_LABELS.get(self.relation, "身份不明") + "）"
        return _KIND_LABELS[self.kind]


_KIND_LABELS = {"unknown": "身份未确认", "debtor": "债务人本人（已确认）", "third_party": "第三人",
                "refused": "对方拒绝确认身份"}
_RELATION_LABELS = {"family": "家属", "colleague": "同事", "friend": "朋友", "wrong_number": "打错电话",
                    "other": "非本人"}


@dataclass(frozen=True)
class PartyChanged:
    """The party state changed (inferred from an answer, or set by the agent)."""

    party: PartyState
    at_s: float | None = None


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
    party: PartyState | None = None  # who is on the line after this utterance
    party_changed: bool = False  # this utterance changed it


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
class ListeningPaused:
    """The agent paused listening (Ctrl+P): from call time ``at`` no audio is recognized or kept."""

    at: float


@dataclass(frozen=True)
class ListeningResumed:
    """Listening goes on after a pause from ``paused_at`` to ``at`` (call time); also sent when a call
    ends while paused, so every pause has its end."""

    paused_at: float
    at: float


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
    # What happened, for views that word it themselves: "lost" (the device stopped delivering:
    # unplugged, or its server went away; ``recovered`` when it is back), "" for anything else.
    kind: str = ""
    device: str = ""  # the device's name as the system lists it, when known


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
    case_id: str = ""  # the debtor's case, when the agent gave one (the contact ledger counts it)


@dataclass(frozen=True)
class ContactLimit:
    """At call start: how often this case was reached today (``reached``: the daily limit is hit)."""

    case_id: str
    connected: int
    attempts: int
    limit: int
    reached: bool
    message: str  # Chinese, for the panel


@dataclass(frozen=True)
class CallEnded:
    """A call ended, normally (``interrupted`` False) or not."""

    session_id: str
    ended_at: float
    interrupted: bool = False
