"""Which FAQ answers what the customer just said.

Every FAQ phrasing (question and paraphrases) goes into one ``PhraseIndex``;
a hit is *shown* only when its score clears a threshold, so small talk
(喂, 你等一下, 我在吃饭) shows nothing. Partial results need a slightly higher
score than finals, because a half-said question is more often ambiguous and a
card that flickers is worse than one that comes a word later.
"""
from __future__ import annotations

from assist.engine.index import PhraseIndex, phrase_keys
from assist.events import FaqHit
from assist.knowledge.model import Faq, KnowledgeBase

SHOW_THRESHOLD = 0.46
PARTIAL_EXTRA = 0.04
PLAYBOOK_BONUS = 0.03  # FAQs of the call's playbook win ties
MIN_SYLLABLES = 3  # fewer sounds than this is never a question worth a card


class FaqMatcher:
    def __init__(self, kb: KnowledgeBase):
        self.faqs: tuple[Faq, ...] = kb.faqs
        phrases, groups = [], []
        for g, faq in enumerate(self.faqs):
            for p in faq.phrasings:
                phrases.append(p)
                groups.append(g)
        self.index = PhraseIndex(phrases, groups)
        self._by_playbook: dict[str, dict[int, float]] = {}
        for g, faq in enumerate(self.faqs):
            for pb in faq.playbooks:
                self._by_playbook.setdefault(pb, {})[g] = PLAYBOOK_BONUS

    def match(self, text: str, playbook_id: str | None = None, final: bool = True,
              limit: int = 5) -> tuple[FaqHit, ...]:
        bonus = self._by_playbook.get(playbook_id or "", None)
        keys = phrase_keys(text)
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

