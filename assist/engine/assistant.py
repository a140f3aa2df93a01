"""The assist engine: one utterance in, FAQ hits, stage, suggestions and warnings out.

Customer speech is matched against the FAQ; agent speech moves the script
stage and is checked for compliance; ``unknown`` speech (one mixed channel)
gets all of it. Partial results are answered too, but only final results
change the call's state, so a half-heard line never marks a stage done.
Without a fixed playbook the engine follows every playbook at once and
reports the one whose stages explain the agent's lines best.
With the KB's sentence vectors (``KbSemantics``, built by ``build_semantics``) final
customer lines are matched by wording and meaning, and agent lines move the stage by
meaning too; without them (no encoder, or not built yet) everything is lexical. The
vectors can arrive mid-call (``attach_semantics``: the panel builds them on a worker
thread while the lexical engine already serves). If the encoder fails during a call the
engine goes on lexical-only for the rest of that call and says so once (``notices``).
Not thread-safe: one engine per call, driven from one thread (``assist.call``
holds the lock); ``attach_semantics`` alone may be called from another thread.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from datetime import datetime

from assist.errors import AssistError
from assist.engine.compliance import ComplianceChecker
from assist.engine.compliance_examples import ExampleDetector
from assist.engine.faq_matcher import FaqMatcher
from assist.engine.kb_semantics import KbSemantics
from assist.engine.lexicon import MATCH_CHARS, Lexicon
from assist.engine.party import PartyTracker
from assist.engine.stage_tracker import StageTracker
from assist.events import PARTY_KINDS, PARTY_RELATIONS, AssistResult, FaqHit, PartyState, Utterance
from assist.knowledge.model import KnowledgeBase

FAQ_SPEAKERS = ("customer", "unknown")
SCRIPT_SPEAKERS = ("agent", "unknown")
# Who is on the line is said at the start of a reply (我就是 / 我是他老婆 / 你打错了) and asked
# at the start or end of the agent's turn (…请问是张强先生吗): party tracking reads the first and
# the last PARTY_CHARS characters of a longer line (its patterns are backtracking ``re``, and a
# million-character line cost seconds there). A phrase across the join reads as one: on a line
# that long, a small price. Compliance reads the whole line (assist.engine.compliance).
PARTY_CHARS = 300
ENCODER_FAILED_NOTICE = "语义匹配出错，本次通话改为只按字面匹配（已识别的内容不受影响）"

log = logging.getLogger(__name__)


class UnknownPlaybook(AssistError, ValueError):
    pass


class AssistEngine:
    def __init__(self, kb: KnowledgeBase, playbook_id: str | None = None,
                 call_started_at: datetime | None = None, semantics: KbSemantics | None = None, *,
                 customer_channel: bool = False):
        """``customer_channel``: the customer's speech reaches the engine (a customer or a
        mixed channel), so an identity question nobody answers is really unanswered."""
        self.kb = kb
        self._semantics: KbSemantics | None = None
        self._semantics_failed = False
        if playbook_id is not None and playbook_id not in kb.playbooks:
            raise UnknownPlaybook(
                f"没有编号为 '{playbook_id}' 的话术：请改用 {'、'.join(repr(p) for p in sorted(kb.playbooks))} 之一")
        self.fixed_playbook_id = playbook_id
        self.lexicon = Lexicon(kb.synonyms)
        self.faq = FaqMatcher(kb, self.lexicon)
        self.trackers = {pid: StageTracker(pb, self.lexicon) for pid, pb in kb.playbooks.items()}
        self.compliance = ComplianceChecker(kb)
        self.party = PartyTracker()
        self.customer_channel = customer_channel
        if semantics is not None:
            self.attach_semantics(semantics)
        self.reset(playbook_id, call_started_at)

    def attach_semantics(self, semantics: KbSemantics | None) -> None:
        """Use these KB vectors from the next utterance on (None: back to lexical-only).
        One reference assignment, so a worker thread may call it while a call runs."""
        if semantics is not None and semantics.kb_version != self.kb.version:
            raise ValueError("semantic index was built for another version of the knowledge base")
        # compliance by example: the rules' examples as vectors (through the same cache), judged
        # against the line's vector the engine computes anyway (see process)
        # built once per KB's vectors and shared by every call's engine (a call starts at once)
        detector = (semantics.derived("compliance_examples", lambda: ExampleDetector(self.kb, semantics.kb_encoder))
                    if semantics is not None else None)
        self._semantics = semantics
        self.compliance.attach(detector)
        self.party.attach_semantics(semantics)  # answers to "请问是XX本人吗" by meaning too

    @property
    def semantics(self) -> KbSemantics | None:
        """The KB vectors in use for this call (None: lexical-only)."""
        return None if self._semantics_failed else self._semantics

    def reset(self, playbook_id: str | None = None, call_started_at: datetime | None = None) -> None:
        """Start a new call (optionally with another fixed playbook)."""
        if playbook_id is not None:
            if playbook_id not in self.kb.playbooks:
                raise UnknownPlaybook(f"没有编号为 '{playbook_id}' 的话术")
            self.fixed_playbook_id = playbook_id
        for t in self.trackers.values():
            t.reset()
        self._semantics_failed = False  # a new call tries the encoder again
        self.compliance.reset(call_started_at)
        self.party.reset()
        self.stage_timeline: list[tuple[float | None, int]] = []

    @property
    def playbook_id(self) -> str | None:
        """The fixed playbook, else the one that explains the agent's lines best so far,
        else the KB's default playbook (``kb/settings.yaml``), else None."""
        if self.fixed_playbook_id:
            return self.fixed_playbook_id
        best = max(self.trackers.values(), key=lambda t: t.evidence, default=None)
        if best and best.evidence > 0:
            return best.playbook.id
        return self.kb.default_playbook

    def _active_stage(self) -> tuple[str | None, int | None]:
        pid = self.playbook_id
        return pid, (self.trackers[pid].current if pid else None)

    def process(self, utt: Utterance) -> AssistResult:
        """One utterance in, its result out (on the call's engine thread)."""
        t0 = time.perf_counter()
        speaker = utt.speaker
        keys = self.lexicon.keys(utt.text)
        notices: tuple[str, ...] = ()
        sem, query = self.semantics, None
        if sem is not None and utt.final and keys:  # partial results stay lexical (fast)
            try:
                query = sem.encode_query(utt.text)
            except Exception:  # any encoder failure: lexical for the rest of the call
                log.exception("sentence encoder failed; lexical-only for the rest of the call")
                self._semantics_failed = True
                sem, query = None, None
                notices = (ENCODER_FAILED_NOTICE,)
        faq: tuple[FaqHit, ...] = ()
        if speaker in FAQ_SPEAKERS:
            faq = self.faq.match(_match_view(utt.text), keys, self.playbook_id, final=utt.final,
                                 query=query, semantics=sem if query is not None else None)
        if speaker in SCRIPT_SPEAKERS and utt.final and keys:
            before = self._active_stage()
            trackers = [self.trackers[self.fixed_playbook_id]] if self.fixed_playbook_id else self.trackers.values()
            for tracker in trackers:
                semantic = None
                if query is not None and sem is not None and tracker.playbook.id in sem.stages:
                    semantic = sem.stages[tracker.playbook.id].group_best(query)
                tracker.observe(keys, semantic)
            after = self._active_stage()
            if after[1] is not None and after != before:
                self.stage_timeline.append((utt.start, after[1]))
        party_changed = self.party.observe(_party_view(utt))
        warnings = self.compliance.check(utt, query, party=self.party.state,
                                         answers_audible=self.customer_channel or self.party.customer_heard)
        if self.party.asked_now and warnings:
            # the line only asks who is on the line (请问是周敏女士吗, also misheard: 你好 是周敏马):
            # a by-meaning hit there is a misheard name near some example, not what was said
            warnings = tuple(w for w in warnings if w.found_by != "example")
        pid = self.playbook_id
        active = self.trackers.get(pid) if pid else None
        return AssistResult(
            utterance=utt,
            faq=faq,
            stage=active.state() if active else None,
            suggestions=active.suggestions() if active else (),
            warnings=warnings,
            stages_done=tuple(sorted(active.visited)) if active else (),
            playbook_id=pid,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            notices=notices,
            party=self.party.state,
            party_changed=party_changed,
        )

    def set_party(self, kind: str, relation: str = "") -> PartyState:
        """The agent says who is on the line (one key in the panel); it stands until changed."""
        if kind not in PARTY_KINDS:
            raise ValueError(f"unknown party kind {kind!r}")
        if kind == "third_party" and relation and relation not in PARTY_RELATIONS:
            raise ValueError(f"unknown third-party relation {relation!r}")
        return self.party.set_by_agent(kind, relation or ("other" if kind == "third_party" else ""))


def _match_view(text: str) -> str:
    """The end of a long line, which FAQ matching reads (its keys come from the last
    MATCH_CHARS compact characters, ``Lexicon.keys``; spaces and punctuation in between
    make the raw tail longer, hence the margin)."""
    return text if len(text) <= 4 * MATCH_CHARS else text[-4 * MATCH_CHARS:]


def _party_view(utt: Utterance) -> Utterance:
    """The part of a line party tracking reads: all of it, or its two ends (see PARTY_CHARS)."""
    if len(utt.text) <= 2 * PARTY_CHARS:
        return utt
    return dataclasses.replace(utt, text=utt.text[:PARTY_CHARS] + utt.text[-PARTY_CHARS:])
