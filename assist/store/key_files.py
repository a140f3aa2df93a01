"""Which of the user's store keys each encrypted file needs, and retiring the keys none needs.

After ``assist sessions rekey`` the older keys stay in the key chain (keys.py):
the demo store, a journal left by a process that died, a damaged store set aside
(``*.corrupt-*``) may still be encrypted with one of them. ``find_files`` lists
every encrypted file beside the session store and the demo store and which key
opens it (read-only, page 1 only: a damaged file is not touched). ``move_forward``
re-encrypts one such file with the newest key without ever writing it in clear
and without touching the original until the copy is proven: the file (and its
WAL) is copied beside itself (still encrypted), the copy is re-keyed
(SQLCipher's ``PRAGMA rekey``) and read back with the new key, then renamed over
the original. A file that cannot be moved (damaged beyond a re-key, a journal
of a running assist) keeps its key in use. ``retirable`` = the older keys no
file needs any more; the CLI removes them from the chain and audits it.

Plaintext backups left by the migration from an unencrypted version
(``*.plain-backup-*``) need no key and are not listed. Runs on the caller's
thread (the ``assist sessions key`` commands).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from assist.store import driver
from assist.store.connection import open_keyed
from assist.store.keys import sql_key
from assist.store.liveness import pid_alive
from assist.store.paths import DB_FILENAME, DEMO_FILENAME
from assist.store.spool import SUFFIX as SPOOL_SUFFIX

KINDS = {"store": "通话记录库", "demo": "演示记录库", "journal": "暂存文件", "set_aside": "损坏后移开的记录库"}


def fingerprint(key: str) -> str:
    """A short name for a key that reveals nothing of it (shown in lists and the audit table)."""
    return hashlib.sha256(bytes.fromhex(key)).hexdigest()[:8]


@dataclass
class KeyedFile:
    path: Path
    kind: str  # KINDS
    key: str | None  # the key that opens it; None: no key of ours opens it (damaged page 1, or a lost key)
    in_use: bool = False  # a journal of an assist process still running: never touched

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, self.kind)


def _kind(store_path: Path, name: str) -> str | None:
    base = store_path.name
    if name == base:
        return "demo" if base == DEMO_FILENAME else "store"
    if name.endswith(("-wal", "-shm", "-journal")) or not name.startswith(base):
        return None
    tail = name[len(base):]
    if tail.startswith(SPOOL_SUFFIX):
        return "journal"
    if tail.startswith(".corrupt-"):
        return "set_aside"
    return None


def candidates(store_paths: list[Path]) -> list[tuple[Path, str, bool]]:
    """(path, kind, in use) for every file beside the given stores that may be encrypted with one of our keys."""
    seen: set[Path] = set()
    found = []
    for store_path in store_paths:
        folder = store_path.parent
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            kind = _kind(store_path, p.name)
            if kind is None or p in seen or not p.is_file() or p.stat().st_size == 0:
                continue
            with open(p, "rb") as f:
                if f.read(16) == b"SQLite format 3\x00":
                    continue  # plaintext: needs no key
            seen.add(p)
            in_use = False
            if kind == "journal":
                tail = p.name[len(store_path.name) + len(SPOOL_SUFFIX):]
                in_use = tail.isdigit() and int(tail) != os.getpid() and pid_alive(int(tail))
            found.append((p, kind, in_use))
    return found


def _opens(path: Path, key: str, *, read_only: bool = True) -> bool:
    # immutable: read page 1 without creating -shm or replaying a WAL (a set-aside file stays as it is)
    uri = f"{path.resolve().as_uri()}?immutable=1" if read_only else str(path)
    try:
        conn, _fmt = open_keyed(lambda: driver.connect_encrypted(uri, uri=read_only, check_same_thread=False), key)
    except driver.DatabaseError:
        return False
    conn.close()
    return True


def key_of(path: Path, keys: list[str]) -> str | None:
    for key in keys:
        if _opens(path, key):
            return key
    return None


def find_files(store_paths: list[Path], keys: list[str]) -> list[KeyedFile]:
    return [KeyedFile(p, kind, key_of(p, keys), in_use) for p, kind, in_use in candidates(store_paths)]


def needed(files: list[KeyedFile]) -> set[str]:
    return {f.key for f in files if f.key is not None}


def retirable(keys: list[str], files: list[KeyedFile]) -> list[str]:
    """Older keys (never the newest) that no listed file needs."""
    need = needed(files)
    return [k for k in keys[1:] if k not in need]


class CannotMove(Exception):
    """The file could not be re-encrypted; the message (Chinese) says why. The original is untouched."""


def move_forward(path: Path, old_key: str, new_key: str) -> None:
    """Re-encrypt ``path`` from ``old_key`` to ``new_key`` through an encrypted copy (see the docstring)."""
    copy = path.with_name(f".{path.name}.rekey-{os.getpid()}")
    sides = [s for s in ("-wal",) if path.with_name(path.name + s).exists()]
    try:
        _copy_private(path, copy)
        for s in sides:
            _copy_private(path.with_name(path.name + s), copy.with_name(copy.name + s))
        conn, _fmt = open_keyed(lambda: driver.connect_encrypted(str(copy), check_same_thread=False), old_key)
        try:
            if sides:  # fold the WAL into the copy first: rekey rewrites the main file
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute(f"PRAGMA rekey = {sql_key(new_key)}")
        finally:
            conn.close()
        if not _opens(copy, new_key, read_only=False) or _opens(copy, old_key):
            raise CannotMove("重新加密没有成功，文件可能有损坏的页")
        os.replace(copy, path)
        for s in sides:
            path.with_name(path.name + s).unlink(missing_ok=True)
        path.with_name(path.name + "-shm").unlink(missing_ok=True)
    except driver.DatabaseError as e:
        raise CannotMove(f"文件有损坏的页，无法整体重新加密（{e}）") from e
    except OSError as e:
        raise CannotMove(f"无法写入重新加密的副本（{e.strerror or e}）") from e
    finally:
        for p in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm"),
                  copy.with_name(copy.name + "-journal")):
            p.unlink(missing_ok=True)


def _copy_private(src: Path, dst: Path) -> None:
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
        while chunk := inp.read(1 << 20):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def default_store_paths(store_path: Path) -> list[Path]:
    """The store a command works on, and its sibling (the demo store beside a real one, and back)."""
    sibling = DEMO_FILENAME if store_path.name != DEMO_FILENAME else DB_FILENAME
    paths = [store_path, store_path.with_name(sibling)]
    from assist.store.paths import default_db_path, demo_db_path

    for p in (default_db_path(), demo_db_path()):
        if p not in paths:
            paths.append(p)
    return paths
