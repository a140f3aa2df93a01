"""Opening the database file: owner-only permissions, the encryption key, WAL, durable commits.

Every store file is a SQLCipher database (see driver.py, keys.py). The key is the
first statement on a connection; ``cipher_log_level = NONE`` keeps a wrong key
from printing SQLCipher's HMAC complaint on stderr (we report it ourselves).
WAL lets readers (review window, export) run while the live recorder writes;
``synchronous=FULL`` makes every commit survive a power cut, not only a crash.

Cipher format: new files use 2 KB pages and HMAC-SHA256 (``CURRENT``) instead of
SQLCipher 4's defaults, 4 KB and HMAC-SHA512 (``LEGACY``, stores made before
2026-11-29). Each commit encrypts and authenticates every page it writes (five for
an utterance with an FAQ hit: two tables, three indexes); with the defaults that
cost as much CPU again as the plain commit itself, mostly SHA-512 and serial
AES-CBC over 4 KB. Half-size pages halve those bytes, and SHA-256 runs on the
SHA extensions most current CPUs have (figures: bench/bench_store.py [c]). Same
cipher (AES-256-CBC), same per-page HMAC, same durability. The format is not
stored in clear, so a file is opened by trying ``FORMATS`` newest first (a failed
try reads page 1 only and writes nothing); open_store converts a legacy store.
Runs on whichever thread opens the store or a reader connection.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assist.store import driver
from assist.store.keys import sql_key

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


class CorruptDatabase(Exception):
    """The file exists but is not a usable database (damaged, or not readable with our keys)."""


class WrongKey(CorruptDatabase):
    """No key we hold opens the file (or it is not a database at all)."""


@dataclass(frozen=True)
class CipherFormat:
    """How a SQLCipher file's pages are laid out; needed (with the key) to read it."""

    page_size: int
    hmac: str

    def pragmas(self, schema: str = "") -> list[str]:
        """Statements to run right after the key (``schema``: an attached database's name)."""
        prefix = f"{schema}." if schema else ""
        return [f"PRAGMA {prefix}cipher_page_size = {self.page_size}",
                f"PRAGMA {prefix}cipher_hmac_algorithm = {self.hmac}"]


CURRENT = CipherFormat(2048, "HMAC_SHA256")
LEGACY = CipherFormat(4096, "HMAC_SHA512")  # SQLCipher 4's defaults
FORMATS = (CURRENT, LEGACY)  # newest first: what new files get, then what older files may use


def unlock(conn, key: str, fmt: CipherFormat = CURRENT) -> None:
    """Key a fresh connection for a file in ``fmt`` (nothing read yet)."""
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = {sql_key(key)}")
    for statement in fmt.pragmas():
        conn.execute(statement)


def open_keyed(make: Callable[[], object], key: str):
    """``(connection, format)``: a connection from ``make()`` keyed with the format that reads page 1.

    A try with the wrong format fails on page 1's HMAC like a wrong key does; SQLCipher
    cannot re-key a connection after that, so each try gets a new one. Raises the
    driver's "not a database" error when no format opens it (wrong key, damaged page 1,
    not a database), other errors (locked, cannot open) at once.
    """
    last: BaseException | None = None
    for fmt in FORMATS:
        conn = make()
        try:
            unlock(conn, key, fmt)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # type: ignore[attr-defined]
            return conn, fmt
        except driver.DatabaseError as e:
            conn.close()  # type: ignore[attr-defined]
            if not driver.is_not_a_database(e):
                raise
            last = e
    assert last is not None
    raise last


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


def file_kind(path: Path) -> str:
    """'missing', 'empty', 'plain' (an unencrypted SQLite file) or 'other' (encrypted, or not ours)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing"
    if size == 0:
        return "empty"
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    return "plain" if head == SQLITE_HEADER else "other"


def connect(path: Path, *, writer: bool, key: str, busy_ms: int = BUSY_TIMEOUT_MS):
    """An encrypted connection with the store's pragmas; the writer also switches the file to WAL.

    ``check_same_thread=False``: the recorder's writer thread and review readers
    each use their own, but a store may be closed from another thread.
    The file's cipher format is found by ``open_keyed`` (``cipher_format(conn)`` says which).
    Raises WrongKey (no usable key / not a database), CorruptDatabase (damaged),
    or the driver's OperationalError (locked, read-only, cannot open: the file may be fine).
    """
    def make():
        c = driver.connect_encrypted(str(path), timeout=busy_ms / 1000, check_same_thread=False)
        c.row_factory = driver.Row
        return c

    try:
        # touches page 1: a wrong key or a non-database fails here, before anything is written
        conn, _fmt = open_keyed(make, key)
    except driver.OperationalError:
        raise
    except driver.DatabaseError as e:
        if driver.is_not_a_database(e):
            raise WrongKey(f"{path}: {e}") from e
        raise CorruptDatabase(f"{path}: {e}") from e
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if writer:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. some network shares: readers would block the recorder
                raise driver.sqlcipher.OperationalError(f"cannot use WAL mode on this file system (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except driver.OperationalError:
        conn.close()
        raise
    except driver.DatabaseError as e:
        conn.close()
        if driver.is_not_a_database(e):
            raise WrongKey(f"{path}: {e}") from e
        raise CorruptDatabase(f"{path}: {e}") from e
    return conn


def cipher_format(conn) -> CipherFormat:
    """The format a keyed connection reads its file with."""
    size = int(conn.execute("PRAGMA cipher_page_size").fetchone()[0])
    hmac = str(conn.execute("PRAGMA cipher_hmac_algorithm").fetchone()[0])
    return CipherFormat(size, hmac)


def connect_plain(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, only to read (and migrate) a store from an earlier version."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


# PRAGMA quick_check reads (and, encrypted, decrypts and authenticates) every page: ~2 s for a
# 70 MB store on a busy 2-core machine. Up to this size it runs on every open; above it the
# open does light_problem() and the recorder runs the full check in the background.
FULL_CHECK_MAX_BYTES = 32 * 1024 * 1024


def light_problem(conn) -> str | None:
    """A cheap check for big files: the schema, and the first and last row of every table."""
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"
                                             " AND name NOT LIKE 'sqlite_%'").fetchall()]
        for t in tables:
            conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid DESC LIMIT 1').fetchall()
            conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid LIMIT 1').fetchall()
    except driver.DatabaseError as e:
        return str(e)
    return None


def integrity_problem(conn) -> str | None:
    """``PRAGMA quick_check``: None if fine, else SQLite's first complaint."""
    try:
        row = conn.execute("PRAGMA quick_check(1)").fetchone()
    except driver.DatabaseError as e:
        return str(e)
    return None if row and row[0] == "ok" else (row[0] if row else "quick_check returned nothing")
