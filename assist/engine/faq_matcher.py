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
from assist.events import FaqHit
from assist.knowledge.model import Faq, KnowledgeBase

SHOW_THRESHOLD = 0.40
PARTIAL_EXTRA = 0.04
PLAYBOOK_BONUS = 0.03  # FAQs of the call's playbook win ties
OTHER_PLAYBOOK_PENALTY = 0.10  # FAQs only of other playbooks may answer differently (other products)
MIN_SYLLABLES = 3  # fewer sounds than this is never a question worth a card


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
        # per playbook: a small bonus for its own FAQs, a penalty for FAQs that belong only to others
        self._by_playbook: dict[str, dict[int, float]] = {}
        for pb in kb.playbooks:
            self._by_playbook[pb] = {
                g: (PLAYBOOK_BONUS if pb in faq.playbooks else -OTHER_PLAYBOOK_PENALTY)
                for g, faq in enumerate(self.faqs) if faq.playbooks
            }

    def match(self, keys: list[str], playbook_id: str | None = None, final: bool = True,
              limit: int = 5) -> tuple[FaqHit, ...]:
        """FAQ hits for an utterance given as ``lexicon.keys(text)``, best first."""
        bonus = self._by_playbook.get(playbook_id or "", None)
        matches = self.index.search(keys, limit=limit, group_bonus=bonus)
        if not matches:
            return ()
        threshold = SHOW_THRESHOLD + (0 if final else PARTIAL_EXTRA)
        long_enough = len(keys) >= MIN_SYLLABLES
        hits = []
        for m in matches:
            faq = self.faqs[m.group]
            hits.append(FaqHit(
                faq_id=faq.id,
                question=faq.question,
                answer=faq.answer,
                score=round(m.score, 3),
                shown=long_enough and m.score >= threshold,
                matched=self.index.phrases[m.phrase],
            ))
        return tuple(hits)


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
