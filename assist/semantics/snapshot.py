"""Whole lists of KB vectors in one file each, so a restart reads one array, not 60,000 rows.

The per-text SQLite cache (``cache.py``) is what makes an edited KB cheap: only new or
changed texts are encoded. But reading 60,000 rows back from it one key at a time is slow
(11 s on a busy 2-core machine for a 10,000-FAQ KB). A snapshot is the finished matrix for
one exact list of texts: one ``.npz`` file under ``vectors/`` beside the SQLite file, named
by the encoder model id and a hash of the list (texts in order), holding the float32
vectors and each row's text key (the same key as the SQLite cache). A restart with an
unchanged KB loads it in one sequential read (about 0.1 s for 60,000 rows).

When the list changed (a KB edit), the newest snapshot of the same model is still used for
every text it holds (matched by key); only the rest come from SQLite or the encoder.
numpy's ``.npz`` is a zip file with a CRC-32 per array, so a damaged or cut-off file is
detected when read; it is then deleted and rebuilt from the SQLite cache (or re-encoded),
never trusted and never fatal. Files are written to a temporary name and renamed into
place (atomic: readers in other processes see the old file or the new one), and only the
newest ``KEEP`` snapshots are kept.

Only KB texts are stored here (as in the SQLite cache), never call speech.
Thread: any; every call works on its own file handles.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import zipfile
from pathlib import Path
from typing import Callable, Sequence
import numpy as np

log = logging.getLogger(__name__)

FOLDER = "vectors"
KEEP = 12  # snapshots kept (a KB has about four lists: phrasings, compliant lines, triggers, party answers)
MIN_TEXTS = 24  # shorter lists are read from SQLite in a few milliseconds: no file for them
KEY_BYTES = 16


def _model_tag(model_id: str) -> str:
    return hashlib.blake2b(model_id.encode("utf-8"), digest_size=6).hexdigest()


def list_digest(model_id: str, texts: Sequence[str]) -> str:
    """The name of one exact list of texts (in order) under one model: one hash over the
    whole list and its texts' lengths (40 ms for 60,000 texts on a busy machine; a key per text: 250 ms)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{model_id}\0{len(texts)}\0".encode("utf-8"))
    h.update(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)).tobytes())
    h.update("\0".join(texts).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class VectorSnapshots:
    """Snapshot files in ``folder`` (created on the first write)."""

    def __init__(self, folder: str | Path, keep: int = KEEP, min_texts: int = MIN_TEXTS):
        self.folder = Path(folder)
        self.keep = keep
        self.min_texts = min_texts
        self.loaded_rows = 0  # rows the last ``lookup`` took from a snapshot (for benches and tests)

    def _path(self, model_id: str, digest: str) -> Path:
        return self.folder / f"{_model_tag(model_id)}-{digest}.npz"

    def _read(self, path: Path, dim: int, vectors: bool = True) -> tuple[np.ndarray | None, np.ndarray] | None:
        """(vectors or None, keys) of one file, or None (missing, or damaged: then deleted)."""
        try:
            with np.load(path, allow_pickle=False) as f:
                keys = f["keys"]
                vecs = f["vectors"] if vectors else None
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            log.warning("vector snapshot %s unreadable (%s); it will be rebuilt", path, e)
            self._discard(path)
            return None
        if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != KEY_BYTES or (vecs is not None and (
                vecs.dtype != np.float32 or vecs.shape != (len(keys), dim))):
            log.warning("vector snapshot %s has the wrong shape; it will be rebuilt", path)
            self._discard(path)
            return None
        if vecs is not None:
            try:
                os.utime(path)  # recently used: kept by the pruning
            except OSError:
                pass
        return vecs, keys

    def lookup(self, model_id: str, texts: Sequence[str], dim: int,
               keys_of: Callable[[], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Vectors for those ``texts`` that a snapshot holds: (vectors [n, dim], found [n] bool,
        the texts' keys if they were needed, else None).

        The exact list's file first (found by the list's hash alone); else, for a KB edited
        since, the snapshot of the same model sharing the most texts, row by row: only then
        are the per-text keys made (``keys_of()``, uint8 [n, 16]) and only the candidates'
        keys read to choose the file (16 bytes a row)."""
        n = len(texts)
        found = np.zeros(n, dtype=bool)
        self.loaded_rows = 0
        if n < self.min_texts:
            return np.zeros((n, dim), dtype=np.float32), found, None
        exact_path = self._path(model_id, list_digest(model_id, texts))
        exact = self._read(exact_path, dim)
        if exact is not None and exact[0] is not None and len(exact[0]) == n:
            self.loaded_rows = n
            return exact[0], np.ones(n, dtype=bool), None
        keys = keys_of()
        out = np.zeros((n, dim), dtype=np.float32)
        wanted = _as_items(keys)
        wanted_set = set(wanted)
        best: tuple[int, Path] | None = None
        for path in self._newest(model_id):
            if path == exact_path:
                continue
            got = self._read(path, dim, vectors=False)
            if got is None:
                continue
            shared = len(wanted_set.intersection(_as_items(got[1])))
            if shared and (best is None or shared > best[0]):
                best = (shared, path)
        if best is None:
            return out, found, keys
        got = self._read(best[1], dim)
        if got is None or got[0] is None:
            return out, found, keys
        vectors, old_keys = got[0], got[1]
        index = {k: i for i, k in enumerate(_as_items(old_keys))}
        src = np.fromiter((index.get(k, -1) for k in wanted), dtype=np.int64, count=n)
        found = src >= 0
        out[found] = vectors[src[found]]
        self.loaded_rows = int(found.sum())
        return out, found, keys

    def save(self, model_id: str, texts: Sequence[str], keys: np.ndarray, vectors: np.ndarray) -> None:
        """Write the finished matrix for this list (atomic rename); failures are logged, not raised."""
        if len(texts) < self.min_texts:
            return
        path = self._path(model_id, list_digest(model_id, texts))
        tmp = path.with_name(f"{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.savez(f, vectors=np.ascontiguousarray(vectors, dtype=np.float32),
                         keys=np.ascontiguousarray(keys, dtype=np.uint8))
            os.replace(tmp, path)
        except OSError as e:  # a full or read-only disk: the SQLite cache still has every row
            log.warning("vector snapshot %s not written (%s)", path, e)
            self._discard(tmp)
            return
        self._prune()

    def _newest(self, model_id: str) -> list[Path]:
        try:
            files = list(self.folder.glob(f"{_model_tag(model_id)}-*.npz"))
        except OSError:
            return []
        return sorted(files, key=_mtime, reverse=True)

    def _prune(self) -> None:
        try:
            files = sorted(self.folder.glob("*.npz"), key=_mtime, reverse=True)
        except OSError:
            return
        for old in files[self.keep:]:
            self._discard(old)

    @staticmethod
    def _discard(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _as_items(keys: np.ndarray) -> list[bytes]:
    """Each 16-byte key row as one hashable bytes object."""
    return np.ascontiguousarray(keys).view(f"V{KEY_BYTES}").ravel().tolist()
