"""Nearest-neighbour search over a fixed set of vectors in groups (numpy, exact).

Rows are KB phrasings (FAQ questions and paraphrases, script lines, examples), each
belonging to a group (an FAQ, a stage, a rule). ``group_best`` gives, for one query,
the best cosine per group and the row that achieved it, in one matrix-vector product
and one ``maximum.reduceat``: exact, and fast enough for 100,000 rows (~2 ms here),
so no approximate index (and its dependency) is needed.
Memory: float32, ``dim`` * 4 bytes a row (1,536 bytes for 384 dimensions).
Immutable once built; safe to read from any thread.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)


def limit_blas_threads() -> bool:
    """numpy's BLAS on one thread, for the whole process (threadpoolctl); False if it cannot be.

    A product with 60,000 rows is bound by memory, not arithmetic: a second BLAS thread gains
    little, and after each product OpenBLAS's idle thread spins for a while, on the core the
    sentence encoder's second thread needs for the next line. Measured on 10,000 FAQs (finals
    back to back, the bench's real-time-scheduled A/B): final p95 78 -> 54 ms with the encoder on
    2 threads, CPU per final 63 -> 36 ms. Called when a KB's vectors are built; idempotent.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the `semantic` extra brings it; without it, only slower
        log.info("threadpoolctl missing: numpy's BLAS keeps its own thread count")
        return False
    threadpool_limits(limits=1, user_api="blas")  # kept: not used as a context manager
    return True


class VectorIndex:
    def __init__(self, vectors: np.ndarray, groups: Sequence[int] | np.ndarray, n_groups: int | None = None):
        vectors = np.asarray(vectors, dtype=np.float32)
        groups = np.asarray(groups, dtype=np.int64)
        if vectors.ndim != 2 or len(vectors) != len(groups):
            raise ValueError("vectors must be [n, dim] with one group per row")
        if len(groups) < 2 or bool(np.all(groups[1:] >= groups[:-1])):
            # already side by side (the KB's phrasings come FAQ by FAQ): no reordered copy,
            # which for 10,000 FAQs would be 92 MB more for a moment and a third of a second
            order = np.arange(len(groups))
            self.vectors = np.ascontiguousarray(vectors)
        else:
            order = np.argsort(groups, kind="stable")  # rows of a group side by side, for reduceat
            self.vectors = np.ascontiguousarray(vectors[order])
        self.vectors.setflags(write=False)  # shared by every call (and maybe with the caller's array)
        self.rows = order  # sorted position -> caller's row number
        self.groups = groups[order]
        self.n_groups = int(n_groups if n_groups is not None else (groups.max() + 1 if len(groups) else 0))
        self.present, self._starts = np.unique(self.groups, return_index=True)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def nbytes(self) -> int:
        return int(self.vectors.nbytes + self.rows.nbytes + self.groups.nbytes)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of the query with every row, in the caller's row order."""
        s = np.empty(len(self.vectors), dtype=np.float32)
        s[self.rows] = self.vectors @ np.asarray(query, dtype=np.float32)
        return s

    def group_best(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(best cosine per group, caller's row of that best); groups without rows get -1 / -1."""
        best = np.full(self.n_groups, -1.0, dtype=np.float32)
        row = np.full(self.n_groups, -1, dtype=np.int64)
        if not len(self.vectors):
            return best, row
        s = self.vectors @ np.asarray(query, dtype=np.float32)
        best[self.present] = np.maximum.reduceat(s, self._starts)
        # which row reached it: the first row of the group whose score equals the maximum
        # (groups are sorted, so a group's first hit is where the group number changes: no sort)
        idx = np.flatnonzero(s >= best[self.groups])
        g = self.groups[idx]
        first = np.empty(len(g), dtype=bool)
        first[:1] = True
        np.not_equal(g[1:], g[:-1], out=first[1:])
        row[g[first]] = self.rows[idx[first]]
        return best, row

    def nearest(self, query: np.ndarray, k: int = 1) -> list[tuple[int, float]]:
        """The k best rows (caller's row numbers) and their cosines, best first."""
        if not len(self.vectors):
            return []
        s = self.vectors @ np.asarray(query, dtype=np.float32)
        k = min(k, len(s))
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top])]
        return [(int(self.rows[i]), float(s[i])) for i in top]
