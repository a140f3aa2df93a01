"""Which FAQ answers what the customer just said.

Every FAQ phrasing (question and paraphrases) goes into one ``PhraseIndex`` (pinyin
features + rapidfuzz). Without an encoder, or on a partial result, a hit is *shown* only
when its lexical score clears a threshold, so small talk (喂, 你等一下, 我在吃饭) shows
nothing; partial results need a slightly higher score, because a card that flickers is
worse than one that comes a word later.

With the KB's vectors (``KbSemantics``) a final result is matched both ways: the
lexical candidates and the encoder's nearest FAQs are scored by a fused score, and a
card is shown when it clears the calibrated tests in ``calibration.py`` (score, distance
to the out-of-scope examples, lead over the runner-up). Runs on the engine's thread.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assist.engine.calibration import (
    CONFIDENT, FAQ_W_LEX, FUSED_FIRM, FAQ_W_SEM, FUSED_SHOW, LEX_ALONE, LEX_CANDIDATES, MIN_CONTENT_CHARS,
    MIN_SYLLABLES, PARTIAL_EXTRA, PLAYBOOK_BONUS, PREFER_OWN_SEM_SLACK, PREFER_OWN_WITHIN,
    RUNNER_MARGIN,
    SEM_CANDIDATES, SHOW_THRESHOLD, STRONG_MATCH, oos_margin_needed, stretch,
)
from assist.engine.index import PhraseIndex
from assist.engine.lexicon import Lexicon
from assist.events import FaqHit
from assist.knowledge.model import Faq, KnowledgeBase
from assist.zh.text import compact, content_chars


@dataclass(frozen=True)
class _Candidate:
    group: int
    phrase: int
    score: float
    lexical: float = 0.0
    semantic: float = -1.0  # cosine of the nearest phrasing of this FAQ; -1: not asked


class FaqMatcher:
    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon):
        self.faqs: tuple[Faq, ...] = kb.faqs
        phrases, groups = faq_phrasings(kb)
        self.index = PhraseIndex(phrases, groups, lexicon,
                                 context=[(g, f.answer) for g, f in enumerate(self.faqs)])
        # per playbook: a small bonus for its own FAQs
        self._by_playbook: dict[str, dict[int, float]] = {}
        for g, faq in enumerate(self.faqs):
            for pb in faq.playbooks:
                self._by_playbook.setdefault(pb, {})[g] = PLAYBOOK_BONUS

    def match(self, text: str, keys: list[str], playbook_id: str | None = None, final: bool = True,
              limit: int = 5, query=None, semantics=None) -> tuple[FaqHit, ...]:
        """FAQ hits for an utterance (its text, and its keys from ``lexicon.keys``), best first.

        ``query`` (the utterance's vector) and ``semantics`` (the KB's ``KbSemantics``) turn
        on the fused match; without them the match is lexical only.
        """
        bonus = self._by_playbook.get(playbook_id or "", None)
        if query is not None and semantics is not None:
            cands, threshold = self._fused(keys, bonus, query, semantics)
        else:
            cands, threshold = self._lexical(text, keys, bonus, final, limit)
        if not cands:
            return ()
        if len(keys) < MIN_SYLLABLES:
            threshold = float("inf")
        if playbook_id and bonus and threshold != float("inf"):
            cands = _prefer_own(cands, bonus, threshold)
        hits = []
        for c in cands[:limit]:
            faq = self.faqs[c.group]
            hits.append(FaqHit(
                faq_id=faq.id,
                question=faq.question,
                answer=faq.answer,
                score=round(c.score, 3),
                shown=c.score >= threshold,
                matched=self.index.phrases[c.phrase],
            ))
        return tuple(hits)

    def _lexical(self, text, keys, bonus, final, limit):
        matches = self.index.search(keys, limit=limit, group_bonus=bonus)
        threshold = SHOW_THRESHOLD + (0 if final else PARTIAL_EXTRA)
        if content_chars(compact(text).text) < MIN_CONTENT_CHARS:
            threshold = max(threshold, STRONG_MATCH)
        return [_Candidate(m.group, m.phrase, m.score, m.score) for m in matches], threshold

    def _fused(self, keys, bonus, query, semantics):
        lex = {m.group: m for m in self.index.search(keys, limit=LEX_CANDIDATES, rerank=LEX_CANDIDATES)}
        sem_best, sem_row = semantics.faq.group_best(query)
        groups = set(lex)
        groups.update(int(g) for g in np.argsort(-sem_best)[:SEM_CANDIDATES])
        cands = []
        for g in groups:
            m = lex.get(g)
            lexical = m.score if m is not None else 0.0
            cos = float(sem_best[g])
            score = FAQ_W_LEX * lexical + FAQ_W_SEM * stretch(cos) + (bonus or {}).get(g, 0.0)
            # the phrasing to name as matched: the lexical one when it carries the score
            phrase = m.phrase if m is not None and FAQ_W_LEX * lexical >= FAQ_W_SEM * stretch(cos) else int(sem_row[g])
            cands.append(_Candidate(g, phrase, min(score, 1.0), lexical, cos))
        cands.sort(key=lambda c: -c.score)
        if not cands:
            return [], float("inf")
        best = cands[0]
        oos = semantics.out_of_scope.nearest(query, 1)
        oos_cos = oos[0][1] if oos else -1.0
        runner = cands[1].score if len(cands) > 1 else 0.0
        show = (best.lexical >= LEX_ALONE or (
            best.score >= FUSED_SHOW
            and best.semantic - oos_cos >= oos_margin_needed(best.score)
            and (best.score - runner >= RUNNER_MARGIN or best.score >= CONFIDENT)))
        # the decision is about the best candidate; others that clear FUSED_FIRM are shown beside it
        # (a runner-up as weak as the weakest shown best would be noise next to it)
        return cands, (min(FUSED_FIRM, best.score) if show else float("inf"))


def _prefer_own(cands: list[_Candidate], own: dict[int, float], threshold: float) -> list[_Candidate]:
    """Put the call's own best FAQ first when it answers too and is close to the best.

    With the encoder, "answers too" also means the encoder finds the own FAQ at least about
    as near as the best (PREFER_OWN_SEM_SLACK): two playbooks' answers to one question
    (需要准备什么资料: the extension's documents, the negotiation's documents) sit at the same
    cosine, while a neighbouring topic of the default playbook (转到哪个账户 for 拖到三十号
    发工资) is further away and must not push a clearly better card aside. Lexical-only
    candidates carry no cosine (-1 on both sides) and keep the plain rule.
    """
    best = cands[0]
    if best.group in own:
        return cands
    for c in cands[1:]:
        if (c.group in own and c.score >= threshold and best.score - c.score <= PREFER_OWN_WITHIN
                and c.semantic >= best.semantic - PREFER_OWN_SEM_SLACK):
            return [c] + [x for x in cands if x is not c]
        if c.group in own:
            break
    return cands


_QUESTION_PARTS = re.compile(r"[？?。；;！!]+")


def faq_phrasings(kb: KnowledgeBase) -> tuple[list[str], list[int]]:
    """Every FAQ phrasing and the position of its FAQ in ``kb.faqs`` (the lexical index's
    and the vector index's row order)."""
    phrases, groups = [], []
    for g, faq in enumerate(kb.faqs):
        for p in _phrasings(faq):
            phrases.append(p)
            groups.append(g)
    return phrases, groups


def _phrasings(faq: Faq) -> list[str]:
    """The FAQ's question, each part of a compound question on its own, and its paraphrases.

    Seed questions often ask two things at once (操作大概多长时间？需要准备哪些资料？);
    a customer asks one of them, which the whole question would dilute.
    """
    parts = [p for p in _QUESTION_PARTS.split(faq.question) if p.strip()]
    out = [faq.question]
    if len(parts) > 1:
        out += parts
    return out + list(faq.paraphrases)
