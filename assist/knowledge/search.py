"""Search the knowledge base by hand: characters, pinyin or pinyin initials.

Used by ``assist kb search`` and the panel's KB browser (search as you type),
so it answers from precomputed strings: each entry (an FAQ with its
paraphrases and answer, or a script line) keeps its text, its pinyin run
together (展期 -> zhanqi) and its initials (展期 -> zq). A Latin query is looked
up in the pinyin and initials; any query is looked up in the text, exactly
first and then fuzzily with rapidfuzz. Qt-free; call from any one thread.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from assist.zh.text import compact, syllables
from assist.knowledge.model import KnowledgeBase

_LATIN = re.compile(r"^[a-z0-9 ]+$")


MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class SearchHit:
    kind: str  # 'faq' | 'line'
    id: str
    title: str  # the FAQ question, or the playbook and stage of a line
    text: str  # the answer, or the line
    score: float
    playbooks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    kind: str
    id: str
    title: str
    text: str
    playbooks: tuple[str, ...]
    tags: tuple[str, ...]
    haystack: str  # compact text of everything searchable
    pinyin: str
    initials: str


def _entry(kind, id_, title, text, searchable, playbooks=(), tags=(), also=()) -> _Entry:
    """``searchable`` is matched by text, pinyin and initials; ``also`` (long answers) by text
    and pinyin only, because two-letter initials match somewhere in any long text."""
    parts = [compact(s).text for s in searchable]
    extra = [compact(s).text for s in also]
    sylls = [syllables(p, fold=False) for p in parts]
    extra_sylls = [syllables(p, fold=False) for p in extra]
    return _Entry(kind, id_, title, text, tuple(playbooks), tuple(tags),
                  "|".join(parts + extra),
                  "|".join("".join(s) for s in sylls + extra_sylls),
                  "|".join("".join(x[0] for x in s if x) for s in sylls))


class KbSearch:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.entries: list[_Entry] = []
        for f in kb.faqs:
            self.entries.append(_entry("faq", f.id, f.question, f.answer,
                                       [f.question, *f.paraphrases, *f.tags], f.playbooks, f.tags,
                                       also=[f.answer]))
        for pb in kb.playbooks.values():
            for st in pb.stages:
                for line in st.lines:
                    self.entries.append(_entry("line", f"{pb.id}/{line.id}", f"{pb.title} · {st.index}. {st.title}",
                                               line.text, [line.text, st.title], (pb.id,), ()))

    def tags(self) -> list[str]:
        return sorted({t for f in self.kb.faqs for t in f.tags})

    def search(self, query: str, playbook: str | None = None, tag: str | None = None,
               limit: int = 20) -> list[SearchHit]:
        # a query is a few words: a pasted page would make fuzzy scoring (and memory) explode
        q = compact(query[:MAX_QUERY_CHARS]).text
        hits: list[SearchHit] = []
        latin = bool(_LATIN.match(q))
        for e in self.entries:
            if playbook and e.playbooks and playbook not in e.playbooks:
                continue
            if tag and tag not in e.tags:
                continue
            if not q:
                score = 0.5
            elif q in e.haystack:
                score = 1.0
            elif latin and q in e.pinyin:
                score = 0.9
            elif latin and len(q) >= 2 and q in e.initials:
                score = 0.8
            elif not latin and len(q) >= 2:
                r = fuzz.partial_ratio(q, e.haystack) / 100
                score = r * 0.75 if r >= 0.75 else 0.0
            else:
                score = 0.0
            if score > 0:
                hits.append(SearchHit(e.kind, e.id, e.title, e.text, round(score, 3), e.playbooks, e.tags))
        hits.sort(key=lambda h: (-h.score, h.kind != "faq"))
        return hits[:limit]
