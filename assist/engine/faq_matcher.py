"""Which FAQ answers what the customer just said.

Every FAQ phrasing (question and paraphrases) goes into one ``PhraseIndex``;
a hit is *shown* only when its score clears a threshold, so small talk
(喂, 你等一下, 我在吃饭) shows nothing. Partial results need a slightly higher
score than finals, because a half-said question is more often ambiguous and a
card that flickers is worse than one that comes a word later.
"""
from __future__ import annotations

import re

from assist.engine.index import PhraseIndex
from assist.engine.lexicon import Lexicon
from assist.zh.text import compact, content_chars
from assist.events import FaqHit
from assist.knowledge.model import Faq, KnowledgeBase

SHOW_THRESHOLD = 0.40
PARTIAL_EXTRA = 0.04
PLAYBOOK_BONUS = 0.03  # FAQs of the call's playbook win ties
# The call's own FAQ answers for its product; another playbook's FAQ on the same topic
# may answer differently (other fees, other documents). When both answer the question,
# the call's own comes first unless the other is clearly the better match.
PREFER_OWN_WITHIN = 0.15
MIN_SYLLABLES = 3  # fewer sounds than this is never a question worth a card
MIN_CONTENT_CHARS = 2  # one with less content (你是哪位: only 位) is shown only on a close match
STRONG_MATCH = 0.60


class FaqMatcher:
    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon):
        self.faqs: tuple[Faq, ...] = kb.faqs
        phrases, groups = [], []
        for g, faq in enumerate(self.faqs):
            for p in _phrasings(faq):
                phrases.append(p)
                groups.append(g)
        self.index = PhraseIndex(phrases, groups, lexicon,
                                 context=[(g, f.answer) for g, f in enumerate(self.faqs)])
        # per playbook: a small bonus for its own FAQs
        self._by_playbook: dict[str, dict[int, float]] = {}
        for g, faq in enumerate(self.faqs):
            for pb in faq.playbooks:
                self._by_playbook.setdefault(pb, {})[g] = PLAYBOOK_BONUS

    def match(self, text: str, keys: list[str], playbook_id: str | None = None, final: bool = True,
              limit: int = 5) -> tuple[FaqHit, ...]:
        """FAQ hits for an utterance (its text, and its keys from ``lexicon.keys``), best first."""
        bonus = self._by_playbook.get(playbook_id or "", None)
        matches = self.index.search(keys, limit=limit, group_bonus=bonus)
        if not matches:
            return ()
        threshold = SHOW_THRESHOLD + (0 if final else PARTIAL_EXTRA)
        if len(keys) < MIN_SYLLABLES:
            threshold = float("inf")
        elif content_chars(compact(text).text) < MIN_CONTENT_CHARS:
            threshold = max(threshold, STRONG_MATCH)
        if playbook_id and bonus:
            matches = _prefer_own(matches, bonus, threshold)
        hits = []
        for m in matches:
            faq = self.faqs[m.group]
            hits.append(FaqHit(
                faq_id=faq.id,
                question=faq.question,
                answer=faq.answer,
                score=round(m.score, 3),
                shown=m.score >= threshold,
                matched=self.index.phrases[m.phrase],
            ))
        return tuple(hits)


def _prefer_own(matches: list, own: dict[int, float], threshold: float) -> list:
    """Put the call's own best FAQ first when it answers too and is close to the best."""
    best = matches[0]
    if best.group in own:
        return matches
    for m in matches[1:]:
        if m.group in own and m.score >= threshold and best.score - m.score <= PREFER_OWN_WITHIN:
            return [m] + [x for x in matches if x is not m]
        if m.group in own:
            break
    return matches


_QUESTION_PARTS = re.compile(r"[？?。；;！!]+")


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
