"""The parsed knowledge base kept between runs, and the last good one per folder.

Parsing 10 000 FAQs of YAML takes seconds even with libyaml; an unchanged KB
should not pay that at every start. ``lookup(root)`` hashes the folder's files
(names and bytes, milliseconds) and returns the ``KnowledgeBase`` pickled under
that hash, if any. The hash covers exactly the files the loader reads (its own
listing, ``loader.kb_files``) and the code that checks them; a folder whose
listing the loader would refuse (a link in a loop or to nowhere, an entry that
is not a file, a missing or empty folder, too many files) or holding a file over
the loader's size limit has no hash: it is never served from the cache, the
loader reads it and reports the problem; ``remember(root, kb)`` stores it after a clean load and
marks it as the folder's *last good* KB, which ``last_good(root)`` returns when
a later edit breaks the folder, so the panel can open with it and say so.

Files live in ``<cache dir>/kb`` (``assist.config.cache_dir``), written
atomically; a cache file that cannot be read is ignored and rebuilt, never an
error. Only the newest few entries are kept. Any thread (each call does its
own file I/O; the worst race writes the same file twice).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import logging
import os
import pickle
import tempfile
from pathlib import Path

from assist import config
from assist.knowledge.model import KnowledgeBase

log = logging.getLogger(__name__)

FORMAT = 3  # bump when KnowledgeBase or its parts change shape (3: parties on playbooks/stages/FAQs, terms)
CHUNK = 500  # FAQs per pickled piece: one piece unpickles in milliseconds (the GIL is shared with the GUI)
KEEP = 8  # cached KBs kept (the newest by use)


def _dir() -> Path:
    return config.cache_dir() / "kb"


def content_hash(root: Path) -> str | None:
    """SHA-256 over the KB's folder, the names and bytes of the files the loader reads, the cache
    format, the package version and the checking code; None if the loader would refuse the folder
    before reading a word (see the module docstring), so that nothing is looked up for it.

    The folder is part of it because a KB records where its files are (errors and the
    browser name them): a copy elsewhere is another KB.
    """
    from assist import __version__
    from assist.knowledge import loader

    files, issues = loader.kb_files(root)
    if issues:
        return None
    h = hashlib.sha256(f"{FORMAT}:{__version__}:{_checker_fingerprint()}:{root.resolve()}\n".encode())
    for path in files:
        try:
            if path.stat().st_size > loader.MAX_FILE_BYTES:
                return None  # refused by the loader: not read here either (it may be 200 MB)
            data = path.read_bytes()
        except OSError:
            return None  # unreadable now: the loader says why
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(data)  # not concatenated: a copy of megabytes costs as much as hashing them
        h.update(b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _checker_fingerprint() -> str:
    """The code that decides whether a KB is accepted (loader, pattern vetting, model): a KB cached
    by other checking code (an upgrade, or an edit in a checkout under the same version number) is
    read and checked again. Where the sources are not files (a frozen bundle), the version decides."""
    h = hashlib.sha256()
    for name in ("loader", "patterns", "model"):
        try:
            spec = importlib.util.find_spec(f"assist.knowledge.{name}")
            h.update(Path(spec.origin).read_bytes() if spec and spec.origin else name.encode())
        except (OSError, ValueError):
            h.update(name.encode())
    return h.hexdigest()[:16]


def _folder_key(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]


def _read(path: Path) -> KnowledgeBase | None:
    try:
        with open(path, "rb") as f:
            shell, pieces = pickle.load(f)
        faqs: list = []
        for piece in pieces:  # piece by piece: the panel's thread runs between them
            faqs.extend(pickle.loads(piece))
        kb = dataclasses.replace(shell, faqs=tuple(faqs))
    except FileNotFoundError:
        return None
    except Exception as e:  # a torn or foreign file: ignore it, it will be rewritten
        log.info("ignoring unreadable KB cache %s: %s", path, e)
        return None
    return kb if isinstance(kb, KnowledgeBase) else None


def _write(path: Path, kb: KnowledgeBase) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
    try:
        faqs = kb.faqs
        pieces = [pickle.dumps(faqs[i:i + CHUNK], protocol=pickle.HIGHEST_PROTOCOL) for i in range(0, len(faqs), CHUNK)]
        with os.fdopen(fd, "wb") as f:
            pickle.dump((dataclasses.replace(kb, faqs=()), pieces), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def lookup(root: Path, digest: str | None = None) -> KnowledgeBase | None:
    """The KB parsed from exactly these files before, or None (also when the folder has no hash)."""
    digest = digest or content_hash(root)
    if digest is None:
        return None
    path = _dir() / f"{digest}.pickle"
    kb = _read(path)
    if kb is not None:
        try:
            os.utime(path)  # newest by use survives pruning
        except OSError:
            pass
    return kb


def cached(root: Path) -> bool:
    """Whether the KB parsed from exactly these files is in the cache: a file check, nothing is
    unpickled (the panel asks before deciding to compile a large KB in a child process; reading
    the entry only to ask cost a second full read of a 10 000-FAQ KB at every start)."""
    digest = content_hash(root)
    return digest is not None and (_dir() / f"{digest}.pickle").is_file()


def remember(root: Path, kb: KnowledgeBase, digest: str | None = None) -> None:
    """Store a cleanly loaded KB under its content hash and as the folder's last good KB."""
    digest = digest or content_hash(root)
    if digest is None:
        return  # the folder changed under the loader: the next load checks it again
    try:
        _write(_dir() / f"{digest}.pickle", kb)
        _write(_dir() / f"last-good-{_folder_key(root)}.pickle", kb)
        _prune()
    except OSError as e:  # a read-only or full disk costs speed, not function
        log.warning("无法把知识库存入缓存（%s）：下次启动会慢一些；请检查缓存文件夹是否可写、磁盘是否已满", e.strerror or e)


def last_good(root: Path) -> KnowledgeBase | None:
    """The last KB that loaded cleanly from this folder (in any earlier run), or None."""
    return _read(_dir() / f"last-good-{_folder_key(root)}.pickle")


def _prune() -> None:
    entries = sorted((p for p in _dir().glob("*.pickle") if not p.name.startswith("last-good-")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
