"""Compliance by example: a line is judged by the example sentences it is closest to in meaning.

Every pattern rule's trigger examples (``examples.trigger`` in ``kb/rules``) are exemplars of
what must not be said; compliant exemplars are the rules' pass examples, the script lines, the
FAQ answers (sentence by sentence) and ``kb/compliant_lines.yaml`` (ordinary things agents
say). A line is flagged for a rule when its nearest trigger example (cosine of sentence
vectors) beats its nearest compliant exemplar by ``MARGIN`` (or, for a line near several
trigger examples, by the mean of each side's ``TOP_K`` nearest: see the constants). So a team
lead teaches a rule a new phrasing by adding one sentence to its examples, and un-flags a
look-alike compliant line the same way. Alone this cannot read negation well (我们不会上门
sits next to 我们会上门), so
``assist.engine.compliance`` fuses it with the regex rules and vetoes its hits on an explicit
pass pattern or a protective negation.

Cost: one encoder call per judged line (the exemplars are encoded once, at construction), so
the checker runs it on final results only; partial results stay pattern-only and cheap.
Thread: construction on whichever thread builds the engine (it encodes the exemplars);
``nearest`` and ``nearest_vector`` on the engine's thread.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from assist.knowledge.model import KnowledgeBase
from assist.semantics import Encoder
from assist.zh.text import compact

# The detector's constants, all in one place. Chosen on the whole tuning sets
# (eval/compliance_tuning, tests/engine/data/compliance_heldout.jsonl, the shared dev set)
# with the patterns on, see /work/notes/issue-9-13-rules.md for the sweep.
MARGIN = 0.0  # nearest trigger minus nearest compliant exemplar, in cosine: the trigger must be nearer
# Issue 9, third round: a second way to flag, by the mean cosine of the TOP_K nearest exemplars
# of each side. A recognizer's homophone errors (拘留 -> 拘你, 派出所 -> 派 所) leave a line near
# several trigger examples of its kind but often a hair nearer to one ordinary sentence; the
# means see the several. It needs the nearest compliant exemplar to lead by less than
# NEAREST_SLACK, so one compliant sentence a team lead adds (a paraphrase of the line) still
# un-flags it on its own, as one trigger example flags it. Chosen on the tuning pool
# (eval/compliance_tuning, compliance_fresh, compliance_fresh2, robust_*, tuning3, the shared dev
# set and their 20 % CER copies): clean P/R 0.984/0.958 -> 0.984/0.981, at 20 % CER
# 0.940/0.890 -> 0.922/0.937.
TOP_K = 3
MEAN_MARGIN = -0.0025  # mean of the TOP_K nearest triggers minus that of the TOP_K nearest compliant
NEAREST_SLACK = 0.01  # ... while the nearest compliant exemplar leads the nearest trigger by less than this
MIN_CONTENT_CHARS = 5  # shorter lines (嗯 好的 / 对对对) are left to the patterns

_SENTENCE_END = re.compile(r"[。！？；!?;\n]+")
_NOT_CONTENT = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class ExampleVerdict:
    """The nearest trigger example of a line and the nearest compliant exemplar."""

    rule_id: str
    example: str  # the rule's trigger example the line is most like
    similarity: float
    compliant: str  # the compliant exemplar the line is most like
    compliant_similarity: float
    trigger_mean: float = -1.0  # mean cosine of the TOP_K nearest trigger examples
    compliant_mean: float = -1.0  # and of the TOP_K nearest compliant exemplars

    @property
    def margin(self) -> float:
        return self.similarity - self.compliant_similarity

    @property
    def mean_margin(self) -> float:
        return self.trigger_mean - self.compliant_mean

    @property
    def flagged(self) -> bool:
        return self.margin > MARGIN or (self.mean_margin > MEAN_MARGIN and self.margin > -NEAREST_SLACK)


def sentences(text: str) -> list[str]:
    """A long answer or script line cut into the sentences an agent would say one at a time."""
    return [s.strip() for s in _SENTENCE_END.split(text) if len(_NOT_CONTENT.sub("", s)) >= MIN_CONTENT_CHARS]


def trigger_exemplars(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(rule id, example) for every pattern rule's trigger example."""
    return [(r.id, t) for r in kb.rules if r.kind == "pattern" for t in r.triggers]


def compliant_exemplars(kb: KnowledgeBase) -> list[str]:
    """What may be said: pass examples, script lines, FAQ answers, the KB's ordinary lines."""
    out: list[str] = [p for r in kb.rules for p in r.passes]
    out += list(kb.compliant_lines)
    for pb in kb.playbooks.values():
        for text in (pb.opening, pb.closing, *(line.text for s in pb.stages for line in s.lines)):
            out += sentences(text)
    for f in kb.faqs:
        out += sentences(f.answer)
    return list(dict.fromkeys(out))  # first occurrence of each, in order


def long_enough(text: str) -> bool:
    """Has the line MIN_CONTENT_CHARS of content, enough to be judged by meaning?"""
    return len(_NOT_CONTENT.sub("", text)) >= MIN_CONTENT_CHARS


class ExampleDetector:
    """Nearest-example compliance judge over one KB's exemplars."""

    def __init__(self, kb: KnowledgeBase, encoder: Encoder):
        self.encoder = encoder
        triggers = trigger_exemplars(kb)
        self.trigger_rules = [rid for rid, _ in triggers]
        self.trigger_texts = [t for _, t in triggers]
        self.compliant_texts = compliant_exemplars(kb)
        self._triggers = self._encode(self.trigger_texts)
        self._compliant = self._encode(self.compliant_texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of the texts as the recognizer would give them: no spaces, punctuation or fillers."""
        if not texts:
            return np.zeros((0, int(getattr(self.encoder, "dim", 1))), dtype=np.float32)
        return np.asarray(self.encoder.encode([compact(t).text or t for t in texts]), dtype=np.float32)

    def nearest(self, text: str, exclude: str | None = None) -> ExampleVerdict | None:
        """The nearest trigger and compliant exemplars of ``text``; None if it is too short to judge.

        ``exclude`` leaves one exemplar text out on both sides (``kb check`` judges a script
        line by the other exemplars, not by itself).
        """
        if not long_enough(text):
            return None
        return self.nearest_vector(self._encode([text])[0], exclude)

    def nearest_vector(self, v: np.ndarray, exclude: str | None = None) -> ExampleVerdict | None:
        """As ``nearest``, for a line the engine has already encoded (the caller checks ``long_enough``)."""
        if not len(self._triggers):
            return None
        st = self._triggers @ v
        sc = self._compliant @ v if len(self._compliant) else np.zeros(0, dtype=np.float32)
        if exclude is not None:
            st = np.where([t == exclude for t in self.trigger_texts], -1.0, st)
            if len(sc):
                sc = np.where([t == exclude for t in self.compliant_texts], -1.0, sc)
        i = int(np.argmax(st))
        j = int(np.argmax(sc)) if len(sc) else -1
        return ExampleVerdict(
            rule_id=self.trigger_rules[i], example=self.trigger_texts[i], similarity=float(st[i]),
            compliant=self.compliant_texts[j] if j >= 0 else "",
            compliant_similarity=float(sc[j]) if j >= 0 else -1.0,
            trigger_mean=_top_mean(st), compliant_mean=_top_mean(sc) if len(sc) else -1.0)


def _top_mean(scores: np.ndarray) -> float:
    """Mean of the TOP_K largest scores (all of them when there are fewer)."""
    k = min(TOP_K, len(scores))
    return float(np.partition(scores, len(scores) - k)[len(scores) - k:].mean())
