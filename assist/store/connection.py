"""Opening the SQLite file: owner-only permissions, WAL, durable commits, corruption check.

WAL lets readers (review window, export) run while the live recorder writes;
``synchronous=FULL`` makes every commit survive a power cut, not only a crash
(costs one fsync per final utterance, measured in bench/bench_store.py).
Runs on whichever thread opens the store or a reader connection.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


class CorruptDatabase(Exception):
    """The file exists but is not a usable SQLite database."""


def ensure_private_file(path: Path) -> None:
    """Create the folder and the (empty) database file readable by its owner only.

    SQLite gives the -wal and -shm files the database file's permissions, so
    creating it 0600 first keeps the whole set private.
    """
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.parent.chmod(0o700)
        except OSError:
            pass
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    try:
        os.chmod(path, 0o600)
    except OSError:  # e.g. a file on a filesystem without modes; not worth failing the call
        pass


def check_header(path: Path) -> None:
    """Raise CorruptDatabase if a non-empty file does not start with SQLite's magic header."""
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise CorruptDatabase(f"{path} is not an SQLite database (bad header)")


def connect(path: Path, *, writer: bool) -> sqlite3.Connection:
    """A connection with the store's pragmas; the writer also switches the file to WAL.

    ``check_same_thread=False`` because the recorder writes from recognizer
    threads; the store serialises those writes with its own lock.
    """
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if writer:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. some network shares: readers would block the recorder
                raise sqlite3.OperationalError(f"cannot use WAL mode on this file system (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        # touches the schema: a damaged file fails here rather than mid-call
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # locked, read-only, I/O error, cannot open: the file may be fine, never set it aside
        conn.close()
        raise
    except sqlite3.DatabaseError as e:  # SQLITE_NOTADB, SQLITE_CORRUPT: the file itself is damaged
        conn.close()
        raise CorruptDatabase(f"{path}: {e}") from e
    return conn


def integrity_problem(conn: sqlite3.Connection) -> str | None:
    """``PRAGMA quick_check``: None if fine, else SQLite's first complaint."""
    try:
        row = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as e:
        return str(e)
    return None if row and row[0] == "ok" else (row[0] if row else "quick_check returned nothing")
