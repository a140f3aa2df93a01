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
tags, answers), the positions of every character and of every reading (sorted
numpy arrays, built in bulk by sorting the text's code points) and, for each
position, which character stands there. A query of pieces p1…pk matches where
the rarest piece stands at i and the character at i+1, i+2, … fits the next
pieces: one array lookup per piece in C, not a scan of the text. Scores are one
array over all entries and ranking one lexsort, so a keystroke with 10 000 FAQs
costs a few milliseconds of search (bench/bench_panel.py --browser). Ranked by
where the match is (question before paraphrase before answer) and how
(characters, whole syllables, syllable being typed, initials, same sound, near
spelling); no cap unless the caller asks. Qt-free; build on any thread, then
search from one thread at a time (it caches per query).
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
from assist.zh.text import compact_text

KINDS = ("faq", "rule", "line")  # tie-break order
FUZZY_CUTOFF = 75  # rapidfuzz partial_ratio, tried only when nothing else matched
# Where a match is: (weight, initials tried). Not in long answers, where any two initials occur somewhere.
GROUPS = {"title": (1.0, True), "alt": (0.9, True), "tag": (0.85, True), "body": (0.7, False)}
HOW = {"chars": 1.0, "pinyin": 0.95, "partial": 0.9, "initials": 0.8, "sound": 0.75, "fuzzy": 0.6}
_CJK = re.compile(r"[\u3400-\u9fff]")
_PIECES = re.compile(r"[a-z]+|.")
_EMPTY = np.zeros(0, dtype=np.int32)
_SEP = "\x02"  # ends each field in a group's text: compact_text() never keeps it, so no query matches across


MAX_QUERY_CHARS = 200
CACHED_QUERIES = 64  # recent queries' score arrays (8 bytes an entry each): backspace is free


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


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` of an already sorted array, without sorting it again."""
    if a.size < 2:
        return a
    return a[np.concatenate(([True], a[1:] != a[:-1]))]


class _Group:
    """One group of fields of every entry: their text run together, and positions by reading.

    Built in bulk at ``freeze``: the text's code points are sorted once (numpy), so the
    positions of each distinct character are a slice of that order, not a Python loop
    over every character of 10 000 FAQs. Each position also keeps its character's number
    (``cid``), so a query's pieces after the first are checked by looking up the character
    standing at the offset (one gather in C) instead of building every piece's positions.
    """

    def __init__(self) -> None:
        self._plain: list[str] = []
        self._owners: list[int] = []  # entry of each field in _plain
        self.fuzzy: dict[int, str] = {}

    def add(self, entry: int, texts: list[str]) -> None:
        kept = [c for c in map(compact_text, texts) if c]
        for text in kept:
            self._plain.append(text + _SEP)  # nothing matches across two fields
            self._owners.append(entry)
        if kept:
            self.fuzzy[entry] = "|".join(kept)

    def freeze(self) -> None:
        plain = "".join(self._plain)
        lengths = np.fromiter((len(t) for t in self._plain), dtype=np.int64, count=len(self._plain))
        owner = np.repeat(np.asarray(self._owners, dtype=np.int32), lengths)
        owner[np.cumsum(lengths) - 1] = -1  # the separator after each field belongs to no entry
        self.owner = owner
        del self._plain, self._owners
        codes = np.frombuffer(plain.encode("utf-32-le"), dtype=np.uint32)
        order = np.argsort(codes, kind="stable").astype(np.int32)  # stable: each character's positions ascending
        ranked = codes[order]
        cuts = np.flatnonzero(np.diff(ranked)) + 1
        starts = np.concatenate(([0], cuts)).astype(np.int64)
        stops = np.concatenate((cuts, [codes.size])).astype(np.int64)
        if not codes.size:
            starts = stops = np.zeros(0, dtype=np.int64)
        # Character numbers: 0 is the separator (never part of a match), then one per distinct character.
        self.cid = np.zeros(codes.size, dtype=np.int32)
        self.chars: list[str] = [_SEP]
        self.by_char: dict[str, np.ndarray] = {}
        by_reading: dict[str, list[np.ndarray]] = defaultdict(list)
        self._reading_ids: dict[str, list[int]] = defaultdict(list)
        counts = [0]
        for a, b in zip(starts.tolist(), stops.tolist()):
            ch = chr(int(ranked[a]))
            if ch == _SEP:
                continue
            where = order[a:b]
            n = len(self.chars)
            self.chars.append(ch)
            counts.append(b - a)
            self.cid[where] = n
            self.by_char[ch] = where
            for r in readings(ch):
                by_reading[r].append(where)
                self._reading_ids[r].append(n)
        self.count = np.asarray(counts, dtype=np.int64)
        self.char_id = {ch: i for i, ch in enumerate(self.chars) if i}
        self.by_reading = {r: (v[0] if len(v) == 1 else np.sort(np.concatenate(v))) for r, v in by_reading.items()}
        # One-piece queries (a letter, a syllable) need only which entries, not where: keep those too.
        entries = lambda v: _sorted_unique(owner[v])  # noqa: E731 (positions ascending: owners too)
        self.entries_by_char = {k: entries(v) for k, v in self.by_char.items()}
        self.entries_by_reading = {k: entries(v) for k, v in self.by_reading.items()}
        self._ids = lru_cache(maxsize=1024)(self._ids_uncached)
        self._lut = lru_cache(maxsize=1024)(self._lut_uncached)
        self._positions = lru_cache(maxsize=256)(self._positions_uncached)
        self._entries = lru_cache(maxsize=256)(self._entries_uncached)
        for letter in "abcdefghijklmnopqrstuvwxyz":  # the first key typed: ready before it is
            self._entries(letter + "*")

    def _ids_uncached(self, piece: str) -> np.ndarray:
        """Numbers of the characters one query piece stands for: ``=c`` this character, ``~c`` any
        character sounding like c, ``xy*`` one with a reading starting with xy, ``xy`` reading xy."""
        if piece.startswith("="):
            found = [self.char_id[piece[1:]]] if piece[1:] in self.char_id else []
        elif piece.startswith("~"):
            found = [i for r in readings(piece[1:]) for i in self._reading_ids.get(r, ())]
        elif piece.endswith("*"):
            found = [i for r, ids in self._reading_ids.items() if r.startswith(piece[:-1]) for i in ids]
        else:
            found = self._reading_ids.get(piece, [])
        return np.unique(np.asarray(found, dtype=np.int32))

    def _lut_uncached(self, piece: str) -> np.ndarray:
        lut = np.zeros(len(self.chars), dtype=bool)
        lut[self._ids(piece)] = True
        return lut

    def _positions_uncached(self, piece: str) -> np.ndarray:
        ids = self._ids(piece)
        if ids.size == 1:
            return self.by_char[self.chars[int(ids[0])]]
        if not piece.startswith("=") and not piece.startswith("~") and not piece.endswith("*"):
            return self.by_reading.get(piece, _EMPTY)
        return np.flatnonzero(self._lut(piece)[self.cid]).astype(np.int32) if ids.size else _EMPTY

    def _entries_uncached(self, piece: str) -> np.ndarray:
        ids = self._ids(piece)
        if ids.size == 1:
            return self.entries_by_char[self.chars[int(ids[0])]]
        if not piece.startswith("=") and not piece.startswith("~") and not piece.endswith("*"):
            return self.entries_by_reading.get(piece, _EMPTY)
        return _sorted_unique(self.owner[self._positions(piece)])

    def positions(self, piece: str) -> np.ndarray:
        """Where one query piece can stand (sorted)."""
        return self._positions(piece)

    def match(self, pieces: tuple[str, ...]) -> np.ndarray:
        """Entries (sorted, unique) where the pieces stand on consecutive positions of one field."""
        if len(pieces) == 1:
            return self._entries(pieces[0])
        sizes = [int(self.count[self._ids(p)].sum()) for p in pieces]
        if min(sizes) == 0:
            return _EMPTY
        # Start from the rarest piece; the others only need the character at their offset checked.
        pivot = sizes.index(min(sizes))
        starts = self._positions(pieces[pivot]) - pivot
        starts = starts[(starts >= 0) & (starts + len(pieces) <= self.cid.size)]
        for i, piece in enumerate(pieces):
            if i != pivot and starts.size:
                starts = starts[self._lut(piece)[self.cid[starts + i]]]
        if not starts.size:
            return _EMPTY
        return _sorted_unique(self.owner[starts])  # no separator inside a match: every owner is an entry


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
        self._cache: dict[str, np.ndarray] = {}
        self._filters: dict[tuple, np.ndarray] = {}
        # Ties in score: FAQs, then rules, then lines; shorter titles first. _tie[i] is entry i's place.
        static = sorted(range(len(self.entries)), key=lambda i: (KINDS.index(self.entries[i].kind),
                                                                 len(self.entries[i].title), i))
        self._tie = np.empty(len(static), dtype=np.int32)
        self._tie[np.asarray(static, dtype=np.int64)] = np.arange(len(static), dtype=np.int32)
        self._by_id = {(e.kind, e.id): i for i, e in enumerate(self.entries)}

    def _add(self, entry: _Entry, **fields: list[str]) -> None:
        self.entries.append(entry)
        for group, texts in fields.items():
            self.groups[group].add(len(self.entries) - 1, texts)

    def tags(self) -> list[str]:
        return sorted({t for f in self.kb.faqs for t in f.tags})

    def score_array(self, query: str) -> np.ndarray:
        """Score of every entry for ``query`` (0: no match), indexed like ``entries``; no filters.

        The matches of each kind arrive as arrays of entry numbers; each entry keeps its best
        weight by writing the weights in rising order into one array (numpy, no per-entry Python).
        The array is cached per query and must not be changed by the caller.
        """
        # a query is a few words: a pasted page would make matching (and memory) explode
        q = compact_text(query[:MAX_QUERY_CHARS])
        cached = self._cache.get(q)
        if cached is not None:
            return cached
        scores = np.zeros(len(self.entries), dtype=np.float64)
        if not q:
            scores[:] = 0.5
        else:
            found: list[tuple[float, np.ndarray]] = []  # (weight, entry numbers)
            letters = q.isascii() and q.isalpha()
            ways = _pinyin_readings(q) if re.search(r"[a-z]", q) else []
            cjk = [c for c in q if _CJK.match(c)]
            as_typed = tuple(f"={c}" for c in q)
            for name, group in self.groups.items():
                gw, initials_ok = GROUPS[name]
                found.append((gw * HOW["chars"], group.match(as_typed)))
                for pieces, how in ways:
                    found.append((gw * HOW[how], group.match(pieces)))
                if letters and initials_ok and 2 <= len(q) <= 12:
                    found.append((gw * HOW["initials"], group.match(tuple(c + "*" for c in q))))
                if cjk and len(q) >= 2:  # typed with a homophone (争信 for 征信)
                    found.append((gw * HOW["sound"], group.match(tuple(f"~{c}" if _CJK.match(c) else f"={c}" for c in q))))
            if not any(f.size for _w, f in found) and cjk and len(q) >= 2:
                # Nothing matched as typed or by sound: near spellings, below every other kind of match.
                for name in ("title", "alt"):
                    for _c, score, e in process.extract(q, self.groups[name].fuzzy, scorer=fuzz.partial_ratio,
                                                        score_cutoff=FUZZY_CUTOFF, limit=None):
                        found.append((GROUPS[name][0] * HOW["fuzzy"] * score / 100, np.array([e])))
            for weight, entries in sorted(found, key=lambda wf: wf[0]):  # rising: the best weight is written last
                scores[entries] = weight
        scores.flags.writeable = False
        if len(self._cache) >= CACHED_QUERIES:
            self._cache.pop(next(iter(self._cache)))  # the oldest query typed
        self._cache[q] = scores
        return scores

    def scores(self, query: str) -> dict[int, float]:
        """Entry index -> score for ``query`` over the whole KB (no filters), matches only."""
        arr = self.score_array(query)
        found = np.flatnonzero(arr)
        return dict(zip(found.tolist(), arr[found].tolist()))

    def rank(self, query: str, playbook: str | None = None, tag: str | None = None,
             kinds: tuple[str, ...] = KINDS) -> Hits:
        """Every hit for ``query``, best first, as a sequence that builds each ``SearchHit`` when read
        (the browser shows a screenful of thousands)."""
        scores = self.score_array(query)
        mask = scores > 0
        keep = self._kept(playbook, tag, kinds)
        if keep is not None:
            mask &= keep
        found = np.flatnonzero(mask)
        # Best score first, then the static tie order (kind, title length): one sort in C.
        ranked = found[np.lexsort((self._tie[found], -scores[found]))]
        return Hits(self, ranked, scores)

    def search(self, query: str, playbook: str | None = None, tag: str | None = None,
               limit: int | None = None, kinds: tuple[str, ...] = KINDS) -> list[SearchHit]:
        """Ranked hits for ``query`` as a list; ``limit=None`` returns them all."""
        hits = self.rank(query, playbook, tag, kinds)
        return list(hits if limit is None else hits[:limit])

    def _kept(self, playbook: str | None, tag: str | None, kinds: tuple[str, ...]) -> np.ndarray | None:
        """Which entries the filters let through, as a boolean array (None: all), cached per setting."""
        if not playbook and not tag and set(kinds) >= set(KINDS):
            return None
        key = (playbook, tag, tuple(kinds))
        if key not in self._filters:
            self._filters[key] = np.fromiter(
                (e.kind in kinds and not (playbook and e.playbooks and playbook not in e.playbooks)
                 and not (tag and tag not in e.tags) for e in self.entries), dtype=bool, count=len(self.entries))
        return self._filters[key]

    def hit(self, i: int, score: float) -> SearchHit:
        e = self.entries[i]
        return SearchHit(e.kind, e.id, e.title, e.text, round(score, 3), e.playbooks, e.tags)


class Hits(Sequence):
    """Ranked hits, materialised one by one as they are read."""

    def __init__(self, search: KbSearch, ranked: np.ndarray, scores: np.ndarray):
        self._search, self._ranked, self._scores = search, ranked, scores

    def __len__(self) -> int:
        return int(self._ranked.size)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._search.hit(i, float(self._scores[i])) for i in self._ranked[index].tolist()]
        i = int(self._ranked[index])
        return self._search.hit(i, float(self._scores[i]))

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, (list, tuple, Hits)) else NotImplemented
