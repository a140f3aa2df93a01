"""The knowledge base as immutable Python objects: playbooks, FAQs, compliance rules.

Built by ``assist.knowledge.loader`` from the YAML files under ``kb/``; read by
the engine, the KB browser and the store. Nothing here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from assist.events import Severity


@dataclass(frozen=True)
class ScriptLine:
    id: str
    text: str


@dataclass(frozen=True)
class Stage:
    index: int  # 1-based position in the playbook
    id: str
    title: str
    lines: tuple[ScriptLine, ...]
    cues: tuple[str, ...] = ()  # other ways agents say this stage, for tracking only
    # who the stage's lines are said to (party names as in Rule.parties); () = the playbook's
    parties: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfferTerms:
    """What an agent may offer under a playbook (its ``terms:``), for the post-call check.

    ``None`` / empty: the playbook says nothing, nothing is checked against it.
    """

    extension_months_max: int | None = None  # the longest extension / deferral (展期、延期) the agent may offer
    installments_max: int | None = None  # the most instalments a re-spread (分 N 期) may have
    waiver: str = "approval"  # approval: waivers only as an application to be approved | none: no waivers
    waivable: tuple[str, ...] = ()  # what the agent may say is waived as a matter of course (未产生的利息)


@dataclass(frozen=True)
class Playbook:
    id: str
    title: str
    source: str
    stages: tuple[Stage, ...]
    opening: str = ""
    closing: str = ""
    goal: str = ""
    role: str = ""
    customer_profile: tuple[str, ...] = ()
    end_conditions: tuple[str, ...] = ()
    persona: str = ""
    notes: str = ""
    file: str = ""
    # who its lines are said to (party names as in Rule.parties): [third_party] for a playbook
    # for relatives and colleagues; () = the debtor. ``kb check`` judges the lines with them on the line.
    parties: tuple[str, ...] = ()
    terms: OfferTerms = field(default_factory=OfferTerms)

    def stage(self, index: int) -> Stage:
        return self.stages[index - 1]


@dataclass(frozen=True)
class Faq:
    id: str
    question: str
    answer: str
    paraphrases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    playbooks: tuple[str, ...] = ()
    source: str = ""
    note: str = ""  # e.g. why the seed's answer was rewritten
    file: str = ""
    line: int = 0
    parties: tuple[str, ...] = ()  # who the answer is said to; () = as its playbooks say (else the debtor)

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)


@dataclass(frozen=True)
class RuleMatch:
    """How a pattern rule matches: regexes over the utterance with spaces removed."""

    any: tuple[str, ...] = ()  # one of these must match; its span is reported
    all: tuple[str, ...] = ()  # each of these must also match somewhere
    unless: tuple[str, ...] = ()  # none of these may match anywhere
    pinyin_any: tuple[str, ...] = ()  # regexes over toneless pinyin, for homophone errors
    negatable: bool = True  # a negation just before the span (不/不会/不要/别/...) cancels it


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    message: str  # what the agent sees: what to say instead
    source: str
    kind: str = "pattern"  # pattern | call_hours | self_identification | identity_before_details
    speakers: tuple[str, ...] = ("agent", "unknown")
    # who must be on the line for the rule to apply (assist.engine.party); () = anyone.
    # Names: unknown, debtor, refused, third_party, or a third party's relation
    # (family, colleague, friend, wrong_number, other).
    parties: tuple[str, ...] = ()
    match: RuleMatch = field(default_factory=RuleMatch)
    params: dict = field(default_factory=dict, hash=False, compare=False)
    triggers: tuple[str, ...] = ()  # examples that must trigger (run by the tests)
    passes: tuple[str, ...] = ()  # examples that must not trigger
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class KnowledgeBase:
    playbooks: dict[str, Playbook]
    faqs: tuple[Faq, ...]
    rules: tuple[Rule, ...]
    version: str  # hash of the files it was built from
    root: str = ""
    synonyms: tuple[tuple[str, ...], ...] = ()  # kb/lexicon.yaml: first word of each group is canonical
    default_playbook: str | None = None  # kb/settings.yaml: the campaign's playbook before the call shows which
    compliant_lines: tuple[str, ...] = ()  # kb/compliant_lines.yaml: ordinary agent lines, for compliance by example
    # kb/out_of_scope.yaml: what customers say that needs no card (fillers, greetings, chit-chat)
    out_of_scope: tuple[str, ...] = ()

    def playbook(self, playbook_id: str) -> Playbook:
        return self.playbooks[playbook_id]

    def faq(self, faq_id: str) -> Faq:
        for f in self.faqs:
            if f.id == faq_id:
                return f
        raise KeyError(faq_id)
