"""A sound-based similarity index over short Chinese phrases (FAQ phrasings, script lines).

Each phrase becomes a set of features over its fuzzy-pinyin syllables:
syllables, adjacent pairs and pairs one apart (robust to an inserted word),
weighted by inverse document frequency so that rare, meaningful sounds count
and common ones (的, 是, 我) barely do. A query is scored against every phrase
at once with numpy (postings + bincount), which keeps 10,000 FAQs within a few
milliseconds, and the best phrases are re-scored with rapidfuzz on the
syllable sequences so that word order counts too.

Scores are in 0..1: ``dice`` is the weighted Dice overlap of the feature sets,
``coverage`` how much of the query the phrase's group explains.
Built once per knowledge base; queried from the engine's thread only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from rapidfuzz import fuzz

from assist.engine.lexicon import Lexicon
from assist.zh.text import FUNCTION_CHARS, char_pinyin, fold_syllable

_PAIR_WEIGHT = 1.0
_SKIP_WEIGHT = 0.5
_UNIGRAM_WEIGHT = 0.6
_FUNCTION_WEIGHT = 0.25
# a query feature the KB has never seen counts against a match, at half an unseen IDF
_UNSEEN_FACTOR = 0.5
# the score: feature overlap with the best phrase, how much of the query the FAQ's
# whole vocabulary explains, and word order (rapidfuzz over the syllable sequences)
_W_DICE, _W_COVERAGE, _W_ORDER = 0.50, 0.20, 0.30

# Features made only of function-word sounds (是不是, 能不能, 怎么, 吗) say little
# about which question it is: kept, but at a quarter of the weight.
FUNCTION_SYLLABLES = frozenset(fold_syllable(char_pinyin(c)) for c in FUNCTION_CHARS)


def features(keys: list[str]) -> dict[str, float]:
    """Feature -> base weight (before IDF) for a syllable sequence."""
    feats: dict[str, float] = {}
    fn = [k in FUNCTION_SYLLABLES for k in keys]
    for k, f in zip(keys, fn):
        feats["u" + k] = _UNIGRAM_WEIGHT * (_FUNCTION_WEIGHT if f else 1.0)
    for i, (a, b) in enumerate(zip(keys, keys[1:])):
        w = _PAIR_WEIGHT * (_FUNCTION_WEIGHT if fn[i] and fn[i + 1] else 1.0)
        feats[f"b{a}_{b}"] = max(w, feats.get(f"b{a}_{b}", 0.0))
    for i, (a, b) in enumerate(zip(keys, keys[2:])):
        w = _SKIP_WEIGHT * (_FUNCTION_WEIGHT if fn[i] and fn[i + 2] else 1.0)
        feats.setdefault(f"s{a}_{b}", w)
    return feats


@dataclass(frozen=True)
class Match:
    group: int  # which group (FAQ, stage) the phrase belongs to
    phrase: int  # which phrase
    score: float
    dice: float
    coverage: float
    order: float


class PhraseIndex:
    """Phrases in groups; ``search`` returns the best groups for a query."""

    def __init__(self, phrases: list[str], groups: list[int], lexicon: Lexicon,
                 context: Sequence[tuple[int, str]] = ()):
        assert len(phrases) == len(groups)
        from assist.engine import index_cache

        cache_key = index_cache.key_for(phrases, groups, lexicon.fingerprint, context)
        state = index_cache.restore(cache_key)
        if state is not None:  # built before from exactly these inputs by this code
            self.__dict__.update(state)
            return
        self._build(phrases, groups, lexicon, context)
        index_cache.remember(cache_key, dict(self.__dict__))

    def _build(self, phrases: list[str], groups: list[int], lexicon: Lexicon,
               context: Sequence[tuple[int, str]]) -> None:
        self.phrases = phrases
        self.groups = np.asarray(groups, dtype=np.int64)
        self.n_groups = int(self.groups.max()) + 1 if groups else 0
        self.keys = [lexicon.keys(p) for p in phrases]
        feats = [features(k) for k in self.keys]
        vocab: dict[str, int] = {}
        df: list[int] = []
        for fs in feats:
            for f in fs:
                j = vocab.setdefault(f, len(vocab))
                if j == len(df):
                    df.append(0)
                df[j] += 1
        n = max(len(phrases), 1)
        self.vocab = vocab
        self.idf = np.array([math.log(1 + n / d) for d in df], dtype=np.float64)
        self.unseen_idf = math.log(1 + n / 0.5)
        postings: list[list[int]] = [[] for _ in vocab]
        base: list[list[float]] = [[] for _ in vocab]
        norms = np.zeros(len(phrases))
        for i, fs in enumerate(feats):
            for f, w in fs.items():
                j = vocab[f]
                postings[j].append(i)
                base[j].append(w)
                norms[i] += w * self.idf[j]
        self.postings = [np.asarray(p, dtype=np.int64) for p in postings]
        self.post_w = [np.asarray(b) * self.idf[j] for j, b in enumerate(base)]
        self.norms = norms
        # group-level postings: does the group's vocabulary (its phrases, and context such
        # as an FAQ's answer, which explains a question without being one) hold the feature?
        group_sets = [set(self.groups[p].tolist()) for p in self.postings]
        for g, text in context:
            for f in features(lexicon.keys(text)):
                jj = vocab.get(f)
                if jj is not None:
                    group_sets[jj].add(g)
        self.group_postings = [np.array(sorted(s), dtype=np.int64) for s in group_sets]

    def _query_features(self, keys: list[str]):
        ids, weights, total = [], [], 0.0
        for f, w in features(keys).items():
            j = self.vocab.get(f)
            if j is None:
                total += w * self.unseen_idf * _UNSEEN_FACTOR
            else:
                ids.append(j)
                weights.append(w * self.idf[j])
                total += w * self.idf[j]
        return ids, weights, total

    def search(self, keys: list[str], limit: int = 5, rerank: int = 12,
               group_bonus: dict[int, float] | None = None) -> list[Match]:
        """Best groups for a query given as ``lexicon.keys(text)``, best first."""
        if not keys or not self.phrases:
            return []
        ids, weights, q_total = self._query_features(keys)
        if not ids or q_total <= 0:
            return []
        # one bincount over the postings of all query features, instead of a loop of adds
        cols = [self.postings[j] for j in ids]
        overlap = np.bincount(np.concatenate(cols), weights=np.concatenate([self.post_w[j] for j in ids]),
                              minlength=len(self.phrases))
        gcols = [self.group_postings[j] for j in ids]
        group_cov = np.bincount(np.concatenate(gcols),
                                weights=np.repeat(weights, [len(c) for c in gcols]),
                                minlength=self.n_groups) / q_total
        dice = 2 * overlap / (q_total + self.norms)
        # best phrase per group among the top phrases (argpartition: no full sort of 60,000 scores)
        k = min(rerank * 4, len(dice))
        top = np.argpartition(-dice, k - 1)[:k] if k < len(dice) else np.arange(len(dice))
        top = top[np.argsort(-dice[top])]
        best: dict[int, int] = {}
        for i in top:
            g = int(self.groups[i])
            if g not in best:
                best[g] = int(i)
            if len(best) >= rerank:
                break
        out = []
        for g, i in best.items():
            if dice[i] <= 0:
                continue
            order_sim = fuzz.ratio(keys, self.keys[i]) / 100.0
            score = _W_DICE * float(dice[i]) + _W_COVERAGE * float(group_cov[g]) + _W_ORDER * order_sim
            if group_bonus:
                score += group_bonus.get(g, 0.0)
            out.append(Match(g, i, min(score, 1.0), float(dice[i]), float(group_cov[g]), order_sim))
        out.sort(key=lambda m: -m.score)
        return out[:limit]
