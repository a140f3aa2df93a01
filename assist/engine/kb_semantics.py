"""The knowledge base as sentence vectors: what the engine's matchers compare a line with.

``build_semantics(kb, encoder, progress)`` encodes every FAQ phrasing, every script line
and cue of every playbook, and the out-of-scope examples (through the on-disk cache, so a
restart with an unchanged KB encodes nothing) and returns a ``KbSemantics``: one
``VectorIndex`` per part, rows in the order the lexical matchers use. It takes seconds on
a first run (about 20 ms a phrasing) and milliseconds from the cache.

Qt-free and thread-agnostic: the panel runs it on a worker thread and hands the result
to ``AssistEngine.attach_semantics`` (an atomic swap: the engine serves lexical-only until
then). ``assist analyze`` runs it in line.

Per final line the engine asks for the line's vector once, but other parts (the party
tracker's reading of an answer) ask again for the same words: ``encode_query`` keeps the
last few lines' vectors in memory (keyed by a hash of the text, never written anywhere), so
the encoder, by far the slowest step of a final line, runs once per line.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from assist.engine.calibration import MAX_QUERY_CHARS
from assist.engine.faq_matcher import faq_phrasings
from assist.engine.stage_tracker import stage_phrasings
from assist.knowledge.model import KnowledgeBase
from assist.semantics import CachedEncoder, EmbeddingCache, Encoder, VectorIndex, default_cache
from assist.semantics.encoder import MAX_CHARS
from assist.semantics.vector_index import limit_blas_threads

ProgressFn = Callable[[int, int], None]  # (texts done, texts to encode); may be called from any thread

RECENT_QUERIES = 16  # line vectors kept: a line, its repeats and the parts that re-ask for it

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def encoder_text(text: str) -> str:
    """What the encoder sees of a KB text: spaces between Chinese characters (as vosk writes
    them) removed, since the encoder's tokenizer reads 展 期 and 展期 differently; bounded
    length (the encoder itself reads the first MAX_CHARS: KB texts are cached that way)."""
    return _CJK_GAP.sub("", text.strip())[:MAX_QUERY_CHARS]


def query_text(text: str) -> str:
    """What the encoder sees of a live line: as ``encoder_text``, but its *last* MAX_CHARS
    characters. The end of a long line is what was just said (a customer who rambles and
    then asks), and it is the part the lexical matcher judges too (engine.lexicon keeps the
    last MATCH_CHARS); the encoder's cost grows with the square of the length, so the window
    stays bounded. The raw tail is cut first so a runaway line costs no more than a short one
    (vosk's spaced characters take at most twice their length)."""
    tail = text[-(MAX_CHARS * 4):]
    return _CJK_GAP.sub("", tail.strip())[-MAX_CHARS:]


class _RecentQueries:
    """The last few live lines' vectors, by a hash of their encoder text (any thread)."""

    def __init__(self, size: int = RECENT_QUERIES):
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.hits = 0

    def get(self, key: bytes) -> np.ndarray | None:
        with self._lock:
            v = self._items.get(key)
            if v is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return v

    def put(self, key: bytes, v: np.ndarray) -> None:
        with self._lock:
            self._items[key] = v
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class KbSemantics:
    """The KB's vectors for one encoder; immutable, shared by every call on this KB."""

    encoder: Encoder  # the bare encoder: live utterances never go through the cache
    kb_encoder: CachedEncoder  # cached: KB texts (rules' examples too)
    kb_version: str
    faq: VectorIndex  # rows: faq_phrasings(kb) order; groups: FAQ position in kb.faqs
    out_of_scope: VectorIndex  # rows: kb.out_of_scope; one group
    stages: dict[str, VectorIndex] = field(default_factory=dict)  # playbook id -> rows: stage_phrasings order
    encoded: int = 0  # KB texts the model actually encoded in the build (the rest came from the cache)
    from_snapshot: int = 0  # KB texts whose vectors came from one snapshot file (the restart path)
    recent: _RecentQueries = field(default_factory=_RecentQueries, init=False, compare=False, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    _derived_lock: threading.Lock = field(default_factory=threading.Lock, init=False, compare=False, repr=False)

    def encode_query(self, text: str) -> np.ndarray | None:
        """One live utterance as a vector (None for a line with nothing to encode), from its
        last MAX_CHARS characters (``query_text``); the same
        words asked again (another part of the engine, a repeated final) are not re-encoded.
        Raises whatever the encoder raises: the engine decides what a failure means."""
        t = query_text(text)
        if not t:
            return None
        key = hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest()
        v = self.recent.get(key)
        if v is None:
            v = self.encoder.encode([t])[0]
            v.setflags(write=False)  # shared by every part that asks: nobody may change it
            self.recent.put(key, v)
        return v

    def derived(self, name: str, build: Callable[[], Any]) -> Any:
        """Something built from these vectors once per KB, not once per call (the compliance
        detector's exemplars): ``build()`` on first use, the same object afterwards.
        A ``build`` that raises is retried next time."""
        with self._derived_lock:
            if name not in self._derived:
                self._derived[name] = build()
            return self._derived[name]

    @property
    def nbytes(self) -> int:
        return self.faq.nbytes + self.out_of_scope.nbytes + sum(v.nbytes for v in self.stages.values())


def build_semantics(kb: KnowledgeBase, encoder: Encoder, cache: EmbeddingCache | None = None,
                    progress: ProgressFn | None = None) -> KbSemantics:
    """Encode the KB (cached) and index it. Raises what the encoder raises.
    Limits numpy's BLAS to one thread for the process (``limit_blas_threads``: why there)."""
    limit_blas_threads()
    if isinstance(encoder, CachedEncoder):
        cached, bare = encoder, encoder.encoder
    else:
        cached, bare = CachedEncoder(encoder, cache if cache is not None else default_cache()), encoder
    faq_texts, faq_groups = faq_phrasings(kb)
    oos = list(kb.out_of_scope)
    stage_parts = {pid: stage_phrasings(pb) for pid, pb in kb.playbooks.items()}
    texts = list(faq_texts) + oos
    for phrases, _groups, _lines in stage_parts.values():
        texts += phrases
    before = cached.encoded
    vecs = cached.encode([encoder_text(t) for t in texts], progress=progress)
    from_snapshot = cached.from_snapshot
    n = len(faq_texts)
    faq = VectorIndex(vecs[:n], faq_groups, n_groups=len(kb.faqs))
    oos_index = VectorIndex(vecs[n:n + len(oos)], [0] * len(oos), n_groups=1)
    pos = n + len(oos)
    stages = {}
    for pid, (phrases, groups, _lines) in stage_parts.items():
        stages[pid] = VectorIndex(vecs[pos:pos + len(phrases)], groups, n_groups=len(kb.playbooks[pid].stages))
        pos += len(phrases)
    return KbSemantics(encoder=bare, kb_encoder=cached, kb_version=kb.version, faq=faq,
                       out_of_scope=oos_index, stages=stages, encoded=cached.encoded - before, from_snapshot=from_snapshot)
