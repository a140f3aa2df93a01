"""Compiled phrase indexes kept in memory and on disk, keyed by everything they are built from.

Building a ``PhraseIndex`` means pinyin for every character of every phrasing:
about 0.3 s for the shipped KB and seconds for 10 000 FAQs, paid at every call
start and every run without this. The key is a SHA-256 over the phrases, their
groups, the context texts, the lexicon's synonym map and the code that turns
text into features (``engine/index.py``, ``engine/lexicon.py``, ``zh/text.py``
and the pypinyin version), so a changed KB or a changed matcher can never be
served a stale index. The KB's own content hash is the coarse key
(``knowledge/kb_cache``); this one is exact.

A built index is immutable (``search`` only reads it), so every engine built on
the same KB shares one copy. On disk its lists of small arrays are stored as one
flat array plus lengths, and long lists and dicts as pickled chunks: unpickling a
10 000-FAQ index in one call held the GIL for seconds and froze the panel that
the loading thread was meant to keep responsive; piece by piece, the GUI thread
gets its turn between pieces. On disk: ``<cache dir>/index/<key>.pickle``
(``assist.config.cache_dir``, one cache folder shared with the sentence vectors
of ``assist.semantics``), written atomically; an unreadable file is rebuilt.
Any thread: the memory map is guarded by a lock; building happens outside it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pickle
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

from assist import config

log = logging.getLogger(__name__)

FORMAT = 2
CHUNK = 2000  # items per pickled piece: a few milliseconds of GIL each
MEMORY_ENTRIES = 32  # indexes held in memory (a KB has one per playbook plus the FAQ index)
DISK_ENTRIES = 64
_CODE = ("assist.engine.index", "assist.engine.lexicon", "assist.zh.text")

_lock = threading.Lock()
_memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
_code_version: str | None = None


def _code_fingerprint() -> str:
    """What the index's features depend on besides its inputs: our source and pypinyin's version."""
    global _code_version
    if _code_version is None:
        import pypinyin  # loaded by the matcher anyway; its own version string spares importlib.metadata (~70 ms)

        from assist import __version__

        h = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
        h.update(str(getattr(pypinyin, "__version__", "")).encode())
        for name in _CODE:
            spec = importlib.util.find_spec(name)
            source = None
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "get_source"):
                try:
                    source = spec.loader.get_source(name)
                except (OSError, ImportError):
                    source = None
            # a frozen bundle has no source: its package version and FORMAT stand in for it
            h.update((source or name).encode())
        _code_version = h.hexdigest()
    return _code_version


def key_for(phrases: Sequence[str], groups: Sequence[int], lexicon_fingerprint: str,
            context: Sequence[tuple[int, str]]) -> str:
    h = hashlib.sha256(_code_fingerprint().encode())
    h.update(lexicon_fingerprint.encode())
    for p, g in zip(phrases, groups):
        h.update(f"{g}\x1f{p}\x1e".encode())
    h.update(b"\x1d")
    for g, text in context:
        h.update(f"{g}\x1f{text}\x1e".encode())
    return h.hexdigest()


def _dir() -> Path:
    return config.cache_dir() / "index"


def _pack(state: dict[str, Any]) -> dict[str, tuple]:
    """The index's attributes in pieces that each unpickle quickly (see the module docstring)."""
    import numpy as np

    packed: dict[str, tuple] = {}
    for name, value in state.items():
        if isinstance(value, list) and value and all(isinstance(v, np.ndarray) and v.ndim == 1 for v in value):
            lengths = np.fromiter((len(v) for v in value), dtype=np.int64, count=len(value))
            packed[name] = ("arrays", np.concatenate(value), lengths)
        elif isinstance(value, (list, dict)) and len(value) > CHUNK:
            items = list(value.items()) if isinstance(value, dict) else value
            pieces = [pickle.dumps(items[i:i + CHUNK], protocol=pickle.HIGHEST_PROTOCOL)
                      for i in range(0, len(items), CHUNK)]
            packed[name] = ("dict" if isinstance(value, dict) else "list", pieces)
        else:
            packed[name] = ("plain", value)
    return packed


def _unpack(packed: dict[str, tuple]) -> dict[str, Any]:
    import numpy as np

    state: dict[str, Any] = {}
    for name, (kind, *parts) in packed.items():
        if kind == "arrays":
            flat, lengths = parts
            bounds = np.cumsum(lengths)
            state[name] = [flat[a:b] for a, b in zip(np.concatenate(([0], bounds[:-1])).tolist(), bounds.tolist())]
        elif kind == "list":
            items: list = []
            for piece in parts[0]:
                items.extend(pickle.loads(piece))
            state[name] = items
        elif kind == "dict":
            mapping: dict = {}
            for piece in parts[0]:  # dict(all items) at once would be one long C call again
                mapping.update(pickle.loads(piece))
            state[name] = mapping
        else:
            state[name] = parts[0]
    return state


def restore(key: str) -> dict[str, Any] | None:
    """The built index's attributes for ``key`` (memory, then disk), or None to build it."""
    with _lock:
        state = _memory.get(key)
        if state is not None:
            _memory.move_to_end(key)
            return state
    path = _dir() / f"{key}.pickle"
    try:
        with open(path, "rb") as f:
            state = _unpack(pickle.load(f))
    except FileNotFoundError:
        return None
    except Exception as e:  # torn or foreign file: rebuild and overwrite
        log.info("ignoring unreadable index cache %s: %s", path, e)
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    _keep(key, state)
    return state


def remember(key: str, state: dict[str, Any]) -> None:
    """Keep a freshly built index's attributes in memory and on disk."""
    _keep(key, state)
    try:
        folder = _dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(_pack(state), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, folder / f"{key}.pickle")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder)
    except OSError as e:  # no cache on a read-only or full disk: slower starts, same results
        log.warning("could not cache a phrase index: %s", e)


def _keep(key: str, state: dict[str, Any]) -> None:
    with _lock:
        _memory[key] = state
        _memory.move_to_end(key)
        while len(_memory) > MEMORY_ENTRIES:
            _memory.popitem(last=False)


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[DISK_ENTRIES:]:
        old.unlink(missing_ok=True)


def clear_memory() -> None:
    """Forget the in-memory indexes (benchmarks measuring a cold or disk-only start)."""
    with _lock:
        _memory.clear()
