"""Which FAQs the matcher may mix up: a leave-one-out over FAQ phrasings (for ``kb check``).

Each phrasing (question or paraphrase) is taken out and looked up among all the others by
meaning (the sentence encoder, through the cache: fast on an unchanged KB). If the nearest
remaining phrasing belongs to another FAQ, a customer who says it that way may get the
other card: a warning with the phrasing's file and line, and the FAQ it lands on. The same
for out-of-scope examples that sit closer to an FAQ phrasing than to the rest of the list.
Warnings, not errors: two FAQs may overlap on purpose.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assist.engine.calibration import CONFUSION_MARGIN
from assist.engine.faq_matcher import faq_phrasings
from assist.engine.kb_semantics import KbSemantics, encoder_text
from assist.knowledge.model import KnowledgeBase


@dataclass(frozen=True)
class Confusion:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: 警告：{self.message}"


def _line_of(kb: KnowledgeBase, file: str, start: int, text: str) -> int:
    """The line of ``text`` in a KB file at or after ``start`` (the entry's line if not found)."""
    root = Path(kb.root).parent if kb.root else Path(".")
    try:
        lines = (root / file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return start
    for n in range(max(start - 1, 0), len(lines)):
        if text in lines[n]:
            return n + 1
    return start


def confusable_faqs(kb: KnowledgeBase, semantics: KbSemantics) -> list[Confusion]:
    phrases, groups = faq_phrasings(kb)
    groups_a = np.asarray(groups)
    vecs = semantics.faq.vectors[np.argsort(semantics.faq.rows)]  # back to phrasing order
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -2.0)
    out: list[Confusion] = []
    for i, text in enumerate(phrases):
        j = int(np.argmax(sims[i]))
        if groups_a[j] == groups_a[i]:
            continue
        own = sims[i][groups_a == groups_a[i]].max(initial=-2.0)
        if sims[i][j] - own < CONFUSION_MARGIN:
            continue  # a near tie: the lexical side and the question decide
        faq, other = kb.faqs[groups[i]], kb.faqs[groups_a[j]]
        out.append(Confusion(faq.file, _line_of(kb, faq.file, faq.line, text),
                             f"FAQ“{faq.question}”的说法“{text}”更像 FAQ“{other.question}”的“{phrases[j]}”"
                             f"（相似度 {sims[i][j]:.2f}，同一 FAQ 内最近 {own:.2f}），客户这样问时可能出错卡片"))
    oos = list(kb.out_of_scope)
    oos_file = f"{Path(kb.root).name}/out_of_scope.yaml" if kb.root else "out_of_scope.yaml"
    if oos:
        ov = semantics.kb_encoder.encode([encoder_text(t) for t in oos])
        to_faq = ov @ vecs.T
        within = ov @ ov.T
        np.fill_diagonal(within, -2.0)
        for k, text in enumerate(oos):
            j = int(np.argmax(to_faq[k]))
            if to_faq[k][j] - within[k].max(initial=-2.0) >= CONFUSION_MARGIN:
                out.append(Confusion(oos_file, _line_of(kb, oos_file, 1, text),
                                     f"无关语句示例“{text}”更像 FAQ“{kb.faqs[groups[j]].question}”的“{phrases[j]}”"
                                     f"（相似度 {to_faq[k][j]:.2f}），可能让这个 FAQ 该出时不出"))
    return out
