"""An on-disk cache of sentence vectors, keyed by encoder model id and text.

One SQLite file (``embeddings.sqlite3`` under ``assist.config.cache_dir()``), one row
a (model id, text) pair: a restart with an unchanged KB encodes nothing, an edited KB
only its new or changed phrasings. SQLite (WAL, busy timeout) makes it safe for
several processes at once (``assist analyze`` runs, the panel, ``kb check``).
A cache that cannot be opened or read (corrupt file, read-only disk) is set aside
and rebuilt, or, failing that, bypassed: the cache never stops the engine.

Only KB texts go in here, never what was said on a call: customer speech can hold
card and ID numbers, and a cache is not a place for them (the engine encodes live
utterances with the bare encoder).
Whole lists (the KB's phrasings, the rules' compliant lines) are also kept as one matrix
each (``snapshot.py``, files under ``vectors/`` beside the SQLite file): a restart reads
one array instead of one row per text; SQLite stays the per-text store behind it.
Thread: any; each call opens its own short transaction, the connection is guarded.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from assist.semantics.encoder import Encoder
from assist.semantics.snapshot import FOLDER, KEY_BYTES, VectorSnapshots

log = logging.getLogger(__name__)

CACHE_FILE = "embeddings.sqlite3"
_CHUNK = 400  # keys per SELECT ... IN (...): below SQLite's variable limit
_SCAN_FROM = 2000  # from this many keys on, one scan of the model's rows beats keyed look-ups
_ENCODE_BATCH = 32

ProgressFn = Callable[[int, int], None]  # (texts done, texts in all)


def _key(model_id: str, text: str) -> bytes:
    return hashlib.blake2b(f"{model_id}\0{text}".encode("utf-8"), digest_size=KEY_BYTES).digest()


def text_keys(model_id: str, texts: Sequence[str]) -> np.ndarray:
    """uint8 [n, 16]: each text's cache key, one row per text (a snapshot's row names)."""
    joined = b"".join(_key(model_id, t) for t in texts)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(texts), KEY_BYTES)


class EmbeddingCache:
    """Vectors by (model id, text) in SQLite; ``path=None`` keeps them in memory only."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path is not None else None
        # whole-list matrices beside the file (none for an in-memory cache)
        self.snapshots = VectorSnapshots(self.path.parent / FOLDER) if self.path is not None else None
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._open()

    def _connect(self) -> sqlite3.Connection:
        target = str(self.path) if self.path is not None else ":memory:"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(target, timeout=10.0, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, model TEXT NOT NULL,"
                     " dim INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID")
        conn.execute("SELECT count(*) FROM (SELECT 1 FROM vec LIMIT 1)").fetchone()
        return conn

    def _open(self) -> None:
        try:
            self._conn = self._connect()
            return
        except (sqlite3.Error, OSError) as e:
            log.warning("embedding cache %s unusable (%s); rebuilding it", self.path, e)
        if self.path is not None:
            try:  # set the damaged file aside (not deleted: someone may want to look at it)
                for suffix in ("", "-wal", "-shm"):
                    p = Path(str(self.path) + suffix)
                    if p.exists():
                        p.replace(p.with_name(f"{p.name}.broken-{int(time.time())}"))
                self._conn = self._connect()
                return
            except (sqlite3.Error, OSError) as e:
                log.warning("embedding cache %s cannot be rebuilt (%s); running without it", self.path, e)
        self._conn = None

    def get(self, model_id: str, texts: Sequence[str], dim: int) -> dict[int, np.ndarray]:
        """Cached vectors for those texts that have one: position in ``texts`` -> vector."""
        if self._conn is None or not texts:
            return {}
        keys = [_key(model_id, t) for t in texts]
        pos: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            pos.setdefault(k, []).append(i)
        found: dict[int, np.ndarray] = {}
        uniq = list(pos)
        try:
            with self._lock:
                if len(uniq) >= _SCAN_FROM:
                    # one pass over the model's rows: a sequential scan reads 60,000 rows in about
                    # a quarter of the time of 150 keyed look-ups (random pages of a 300 MB file)
                    for k, d, data in self._conn.execute("SELECT key, dim, data FROM vec WHERE model = ?",
                                                         (model_id,)):
                        if k in pos and d == dim and len(data) == 4 * dim:
                            v = np.frombuffer(data, dtype=np.float32)
                            for i in pos[k]:
                                found[i] = v
                    return found
                for c in range(0, len(uniq), _CHUNK):
                    chunk = uniq[c:c + _CHUNK]
                    rows = self._conn.execute(
                        f"SELECT key, dim, data FROM vec WHERE key IN ({','.join('?' * len(chunk))})",
                        chunk).fetchall()
                    for k, d, data in rows:
                        if d != dim or len(data) != 4 * dim:
                            continue  # a row from another model shape: treat as missing
                        v = np.frombuffer(data, dtype=np.float32)
                        for i in pos[k]:
                            found[i] = v
        except sqlite3.Error as e:
            log.warning("embedding cache read failed (%s); rebuilding it", e)
            self._reopen()
            return {}
        return found

    def put(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        if self._conn is None or not len(texts):
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(_key(model_id, t), model_id, int(vectors.shape[1]), vectors[i].tobytes())
                for i, t in enumerate(texts)]
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)", rows)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as e:  # a full or read-only disk: vectors stay in memory only
            log.warning("embedding cache write failed (%s)", e)

    def _reopen(self) -> None:
        with self._lock:
            try:
                if self._conn is not None:
                    self._conn.close()
            except sqlite3.Error:
                pass
        self._open()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class CachedEncoder:
    """An ``Encoder`` that looks each text up in an ``EmbeddingCache`` before encoding it.

    For KB texts (phrasings, script lines, examples); the engine encodes live speech with
    the bare encoder (``.encoder``), never through the cache.
    """

    def __init__(self, encoder: Encoder, cache: EmbeddingCache):
        self.encoder = encoder
        self.cache = cache
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.encoded = 0  # texts actually run through the model (the rest came from the cache)
        self.from_snapshot = 0  # rows of the last ``encode`` read from a snapshot file

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Vectors of ``texts`` (float32 [n, dim]): from the list's snapshot, then SQLite, then
        the model; a list not read whole from its snapshot is written as one afterwards."""
        texts = list(texts)
        snaps = self.cache.snapshots
        keys: np.ndarray | None = None
        if snaps is not None:
            out, have, keys = snaps.lookup(self.model_id, texts, self.dim, lambda: text_keys(self.model_id, texts))
            self.from_snapshot = snaps.loaded_rows
            if have.all() and keys is None:  # the exact list's file (keys are made only on a miss)
                if progress:
                    progress(0, 0)
                return out
            out = np.array(out)  # writable (a snapshot's array may be read-only)
        else:
            out, have = np.zeros((len(texts), self.dim), dtype=np.float32), np.zeros(len(texts), dtype=bool)
            self.from_snapshot = 0
        rest = [i for i in range(len(texts)) if not have[i]]
        found = self.cache.get(self.model_id, [texts[i] for i in rest], self.dim)
        for j, v in found.items():
            out[rest[j]] = v
        todo: dict[str, list[int]] = {}
        for j, i in enumerate(rest):
            if j not in found:
                todo.setdefault(texts[i], []).append(i)
        total, done = len(todo), 0
        if progress:
            progress(0, total)
        missing = list(todo)
        for b in range(0, len(missing), _ENCODE_BATCH):
            batch = missing[b:b + _ENCODE_BATCH]
            vecs = np.asarray(self.encoder.encode(batch), dtype=np.float32)
            self.cache.put(self.model_id, batch, vecs)
            for t, v in zip(batch, vecs):
                for i in todo[t]:
                    out[i] = v
            done += len(batch)
            self.encoded += len(batch)
            if progress:
                progress(done, total)
        if snaps is not None and len(texts) >= snaps.min_texts:
            snaps.save(self.model_id, texts, keys if keys is not None else text_keys(self.model_id, texts), out)
        return out
