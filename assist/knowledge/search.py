"""Search the knowledge base by hand: characters, pinyin (every reading), initials, mixed.

Used by ``assist kb search`` and the KB browser (search as you type over FAQs,
script lines and compliance rules with their examples). A query is compacted
(spaces, punctuation, full-width forms) and split into characters and runs of
letters. Letters are read as whole pinyin syllables in the fewest pieces
(``huankuan`` -> huan kuan; the last one may still be being typed), or, when
the whole query is letters, as initials (``hk``); characters match themselves,
or any character that sounds the same (``争信`` finds 征信), so ``征xin`` finds
征信 too. Every reading of a polyphone counts (还 huan/hai, 行 hang/xing).

The index keeps, per group of fields (questions, paraphrases and examples,
tags, answers), the positions of every character under each of its readings
(sorted numpy arrays). A query of pieces p1…pk matches where p1 is at position
i, p2 at i+1, …: a few vectorised binary searches, not a scan of the text (with
10 000 FAQs a keystroke costs tens of milliseconds: bench/bench_panel.py
--browser). Ranked by where the match is
(question before paraphrase before answer) and how (characters, whole syllables,
syllable being typed, initials, same sound, near spelling); no cap unless the
caller asks. Qt-free; one instance per thread (it caches per query).
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from assist.knowledge.model import KnowledgeBase
from assist.zh.pinyin import readings, splits
from assist.zh.text import compact

KINDS = ("faq", "rule", "line")  # tie-break order
FUZZY_CUTOFF = 75  # rapidfuzz partial_ratio, tried only when nothing else matched
# Where a match is: (weight, initials tried). Not in long answers, where any two initials occur somewhere.
GROUPS = {"title": (1.0, True), "alt": (0.9, True), "tag": (0.85, True), "body": (0.7, False)}
HOW = {"chars": 1.0, "pinyin": 0.95, "partial": 0.9, "initials": 0.8, "sound": 0.75, "fuzzy": 0.6}
_CJK = re.compile(r"[\u3400-\u9fff]")
_PIECES = re.compile(r"[a-z]+|.")
_EMPTY = np.zeros(0, dtype=np.int32)


MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class SearchHit:
    kind: str  # 'faq' | 'rule' | 'line'
    id: str  # internal key (FAQ id, rule id, playbook/line id): never shown to a user
    title: str  # the FAQ question, the rule's title, or the playbook and stage of a line
    text: str  # the answer, what to say instead, or the line
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


class _Group:
    """One group of fields of every entry: their text run together, and positions by reading.

    Positions are sorted numpy arrays, so a query's pieces line up by binary search in C.
    """

    def __init__(self) -> None:
        self._plain: list[str] = []
        self._owner: list[int] = []  # entry index of each position (-1 between fields)
        self._by_char: dict[str, list[int]] = defaultdict(list)
        self._by_reading: dict[str, list[int]] = defaultdict(list)
        self.fuzzy: dict[int, str] = {}

    def add(self, entry: int, texts: list[str]) -> None:
        kept = [c for c in (compact(t).text for t in texts) if c]
        for text in kept:
            base = len(self._owner)
            for k, ch in enumerate(text):
                self._by_char[ch].append(base + k)
                for r in readings(ch):
                    self._by_reading[r].append(base + k)
            self._owner.extend([entry] * len(text))
            self._owner.append(-1)  # nothing matches across two fields
            self._plain.append(text + "\x02")
        if kept:
            self.fuzzy[entry] = "|".join(kept)

    def freeze(self) -> None:
        self.plain = "".join(self._plain)
        self.owner = np.asarray(self._owner, dtype=np.int32)
        arr = lambda v: np.asarray(v, dtype=np.int32)  # noqa: E731 (appended in order: already sorted)
        self.by_char = {k: arr(v) for k, v in self._by_char.items()}
        self.by_reading = {k: arr(v) for k, v in self._by_reading.items()}
        del self._plain, self._owner, self._by_char, self._by_reading
        # One-piece queries (a letter, a syllable) need only which entries, not where: keep those too.
        entries = lambda v: np.unique(self.owner[v])  # noqa: E731
        self.entries_by_char = {k: entries(v) for k, v in self.by_char.items()}
        self.entries_by_reading = {k: entries(v) for k, v in self.by_reading.items()}
        self._starting = lru_cache(maxsize=256)(self._starting_uncached)
        self._entries_starting = lru_cache(maxsize=256)(self._entries_starting_uncached)
        for letter in "abcdefghijklmnopqrstuvwxyz":  # the first key typed: ready before it is
            self._starting(letter)

    def _entries_starting_uncached(self, prefix: str) -> np.ndarray:
        parts = [v for r, v in self.entries_by_reading.items() if r.startswith(prefix)]
        return np.unique(np.concatenate(parts)) if parts else _EMPTY

    def _entries_for(self, piece: str) -> np.ndarray:
        if piece.startswith("="):
            return self.entries_by_char.get(piece[1:], _EMPTY)
        if piece.startswith("~"):
            parts = [self.entries_by_reading[r] for r in readings(piece[1:]) if r in self.entries_by_reading]
            return np.unique(np.concatenate(parts)) if parts else _EMPTY
        if piece.endswith("*"):
            return self._entries_starting(piece[:-1])
        return self.entries_by_reading.get(piece, _EMPTY)

    def _starting_uncached(self, prefix: str) -> np.ndarray:
        parts = [v for r, v in self.by_reading.items() if r.startswith(prefix)]
        return np.unique(np.concatenate(parts)) if parts else _EMPTY

    def positions(self, piece: str) -> np.ndarray:
        """Where one query piece can stand: ``=c`` this character, ``~c`` any character sounding
        like c, ``xy*`` a reading starting with xy, ``xy`` exactly the reading xy."""
        if piece.startswith("="):
            return self.by_char.get(piece[1:], _EMPTY)
        if piece.startswith("~"):
            parts = [self.by_reading[r] for r in readings(piece[1:]) if r in self.by_reading]
            return np.unique(np.concatenate(parts)) if parts else _EMPTY
        if piece.endswith("*"):
            return self._starting(piece[:-1])
        return self.by_reading.get(piece, _EMPTY)

    def match(self, pieces: tuple[str, ...]) -> set[int]:
        """Entries where the pieces stand on consecutive positions of one field."""
        if len(pieces) == 1:
            return set(self._entries_for(pieces[0]).tolist())
        arrays = [self.positions(p) for p in pieces]
        if any(a.size == 0 for a in arrays):
            return set()
        # Start from the rarest piece and look the others up at their offsets (binary search).
        pivot = min(range(len(arrays)), key=lambda i: arrays[i].size)
        starts = arrays[pivot] - pivot
        for i, a in enumerate(arrays):
            if i == pivot:
                continue
            want = starts + i
            idx = np.searchsorted(a, want)
            idx[idx >= a.size] = a.size - 1
            starts = starts[a[idx] == want]
            if starts.size == 0:
                return set()
        starts = starts[starts >= 0]
        owners = np.unique(self.owner[starts])
        return set(owners[owners >= 0].tolist())

    def find_plain(self, q: str) -> set[int]:
        """Entries whose text contains ``q`` as it is (one hit per field is enough)."""
        found: set[int] = set()
        at = self.plain.find(q)
        while at >= 0:
            found.add(int(self.owner[at]))
            at = self.plain.find(q, self.plain.find("\x02", at) + 1)
        return found


def _pinyin_readings(q: str) -> list[tuple[tuple[str, ...], str]]:
    """The ways to read a query with letters in it, each with how it matches (pinyin or partial)."""
    options: list[list[str]] = [[]]
    runs = _PIECES.findall(q)
    for i, run in enumerate(runs):
        if run.isascii() and run.isalpha():
            ways = splits(run, last_may_be_partial=(i == len(runs) - 1))
            if not ways:  # not pinyin (e.g. "hk" next to characters): initials
                ways = (tuple(c + "*" for c in run),)
        else:
            ways = ((f"={run}",),)
        options = [acc + list(w) for acc in options for w in ways][:32]
    return [(tuple(o), "partial" if o[-1].endswith("*") else "pinyin") for o in options]


class KbSearch:
    """An index of one knowledge base for search as you type (build once per KB)."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.entries: list[_Entry] = []
        self.groups = {g: _Group() for g in GROUPS}
        for f in kb.faqs:
            self._add(_Entry("faq", f.id, f.question, f.answer, tuple(f.playbooks), tuple(f.tags)),
                      title=[f.question], alt=list(f.paraphrases), tag=list(f.tags), body=[f.answer])
        for r in kb.rules:
            self._add(_Entry("rule", r.id, r.title, r.message, (), ()),
                      title=[r.title], alt=[*r.triggers, *r.passes], body=[r.message])
        for pb in kb.playbooks.values():
            for st in pb.stages:
                for line in st.lines:
                    self._add(_Entry("line", f"{pb.id}/{line.id}", f"{pb.title} · {st.index}. {st.title}",
                                     line.text, (pb.id,), ()),
                              title=[line.text], alt=[st.title])
        for g in self.groups.values():
            g.freeze()
        splits("zhuang")  # loads pypinyin's syllable table now, not on the first key typed
        self._cache: dict[str, dict[int, float]] = {}
        self._filters: dict[tuple, set[int]] = {}
        # Ties in score: FAQs, then rules, then lines; shorter titles first. _tie[i] is entry i's place.
        static = sorted(range(len(self.entries)), key=lambda i: (KINDS.index(self.entries[i].kind),
                                                                 len(self.entries[i].title), i))
        self._tie = [0] * len(static)
        for place, i in enumerate(static):
            self._tie[i] = place

    def _add(self, entry: _Entry, **fields: list[str]) -> None:
        self.entries.append(entry)
        for group, texts in fields.items():
            self.groups[group].add(len(self.entries) - 1, texts)

    def tags(self) -> list[str]:
        return sorted({t for f in self.kb.faqs for t in f.tags})

    def scores(self, query: str) -> dict[int, float]:
        """Entry index -> score for ``query`` over the whole KB (no filters)."""
        # a query is a few words: a pasted page would make matching (and memory) explode
        q = compact(query[:MAX_QUERY_CHARS]).text
        if not q:
            return {i: 0.5 for i in range(len(self.entries))}
        cached = self._cache.get(q)
        if cached is not None:
            return cached
        found: list[tuple[float, set[int]]] = []  # (weight, entries), merged best weight first below
        letters = q.isascii() and q.isalpha()
        ways = _pinyin_readings(q) if re.search(r"[a-z]", q) else []
        cjk = [c for c in q if _CJK.match(c)]
        for name, group in self.groups.items():
            gw, initials_ok = GROUPS[name]
            found.append((gw * HOW["chars"], group.find_plain(q)))
            for pieces, how in ways:
                found.append((gw * HOW[how], group.match(pieces)))
            if letters and initials_ok and 2 <= len(q) <= 12:
                found.append((gw * HOW["initials"], group.match(tuple(c + "*" for c in q))))
            if cjk and len(q) >= 2:  # typed with a homophone (争信 for 征信)
                found.append((gw * HOW["sound"], group.match(tuple(f"~{c}" if _CJK.match(c) else f"={c}" for c in q))))
        if not any(f for _w, f in found) and cjk and len(q) >= 2:
            # Nothing matched as typed or by sound: near spellings, below every other kind of match.
            for name in ("title", "alt"):
                for _c, score, e in process.extract(q, self.groups[name].fuzzy, scorer=fuzz.partial_ratio,
                                                    score_cutoff=FUZZY_CUTOFF, limit=None):
                    found.append((GROUPS[name][0] * HOW["fuzzy"] * score / 100, {e}))
        scored: dict[int, float] = {}
        for weight, entries in sorted(found, key=lambda wf: -wf[0]):
            new = entries.difference(scored)  # set operations in C: each entry gets its best weight once
            if new:
                scored.update(dict.fromkeys(new, weight))
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[q] = scored
        return scored

    def rank(self, query: str, playbook: str | None = None, tag: str | None = None,
             kinds: tuple[str, ...] = KINDS) -> Hits:
        """Every hit for ``query``, best first, as a sequence that builds each ``SearchHit`` when read
        (the browser shows a screenful of thousands)."""
        scored = self.scores(query)
        keep = self._kept(playbook, tag, kinds)
        buckets: dict[float, list[int]] = defaultdict(list)
        for i, score in scored.items():
            if keep is None or i in keep:
                buckets[score].append(i)
        ranked: list[int] = []
        tie = self._tie.__getitem__  # C-level key: no Python call per entry
        for score in sorted(buckets, reverse=True):
            ranked.extend(sorted(buckets[score], key=tie))
        return Hits(self, ranked, scored)

    def search(self, query: str, playbook: str | None = None, tag: str | None = None,
               limit: int | None = None, kinds: tuple[str, ...] = KINDS) -> list[SearchHit]:
        """Ranked hits for ``query`` as a list; ``limit=None`` returns them all."""
        hits = self.rank(query, playbook, tag, kinds)
        return list(hits if limit is None else hits[:limit])

    def _kept(self, playbook: str | None, tag: str | None, kinds: tuple[str, ...]) -> set[int] | None:
        """The entries the filters let through (None: all), cached per filter setting."""
        if not playbook and not tag and set(kinds) >= set(KINDS):
            return None
        key = (playbook, tag, tuple(kinds))
        if key not in self._filters:
            self._filters[key] = {
                i for i, e in enumerate(self.entries)
                if e.kind in kinds and not (playbook and e.playbooks and playbook not in e.playbooks)
                and not (tag and tag not in e.tags)}
        return self._filters[key]

    def hit(self, i: int, score: float) -> SearchHit:
        e = self.entries[i]
        return SearchHit(e.kind, e.id, e.title, e.text, round(score, 3), e.playbooks, e.tags)


class Hits(Sequence):
    """Ranked hits, materialised one by one as they are read."""

    def __init__(self, search: KbSearch, ranked: list[int], scored: dict[int, float]):
        self._search, self._ranked, self._scored = search, ranked, scored

    def __len__(self) -> int:
        return len(self._ranked)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._search.hit(i, self._scored[i]) for i in self._ranked[index]]
        i = self._ranked[index]
        return self._search.hit(i, self._scored[i])

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, (list, tuple, Hits)) else NotImplemented
