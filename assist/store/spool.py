"""The recorder's journal: writes the store cannot take yet, kept on disk beside it, encrypted.

When the store is locked by another program, full or read-only for longer than
a moment, the recorder's writer thread moves what is waiting in memory into
``<store>.spool-<pid>``: a small SQLCipher file with the store's key (so the
transcript is never on disk in clear), one row per write record (writes.py),
committed with synchronous=FULL. Once the store takes writes again, the rows are
replayed in order and removed; the file is deleted when empty. A record the
database refuses even sanitised is kept here as ``set_aside`` with its reason,
never dropped. A process killed with its spool unreplayed leaves the file: the
next ``open_store`` replays it (records carry keys, so nothing is stored twice).

Used by the recorder's writer thread only (and by open_store for leftovers).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from assist.store import driver, writes
from assist.store.connection import connect, ensure_private_file
from assist.store.liveness import pid_alive

SUFFIX = ".spool-"


def spool_path(store_path: Path, pid: int | None = None) -> Path:
    return store_path.with_name(f"{store_path.name}{SUFFIX}{pid or os.getpid()}")


def leftover_spools(store_path: Path) -> list[Path]:
    """Spool files beside the store whose process is gone (to replay)."""
    found = []
    for p in sorted(store_path.parent.glob(f"{store_path.name}{SUFFIX}*")):
        tail = p.name[len(store_path.name) + len(SUFFIX):]
        if tail.isdigit() and not pid_alive(int(tail)):
            found.append(p)
    return found


class Spool:
    """One spool file; opened (and created) on first use."""

    def __init__(self, path: Path, key: str):
        self.path = Path(path)
        self._key = key
        self._conn = None

    def _db(self):
        if self._conn is None:
            ensure_private_file(self.path)
            conn = connect(self.path, writer=True, key=self._key, busy_ms=1000)
            conn.execute("CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, record TEXT NOT NULL,"
                         " status TEXT NOT NULL DEFAULT 'pending', reason TEXT, at REAL)")
            conn.commit()
            self._conn = conn
        return self._conn

    def exists(self) -> bool:
        return self._conn is not None or self.path.exists()

    def add(self, records: list[dict], *, status: str = "pending", reason: str | None = None) -> None:
        """Append records in one transaction (raises the driver's errors if the disk refuses)."""
        conn = self._db()
        now = time.time()
        with conn:
            conn.executemany("INSERT INTO entries (record, status, reason, at) VALUES (?,?,?,?)",
                             [(writes.to_json(r), status, reason, now) for r in records])

    def pending(self, limit: int = 200) -> list[tuple[int, dict]]:
        rows = self._db().execute("SELECT id, record FROM entries WHERE status='pending' ORDER BY id LIMIT ?",
                                  (limit,)).fetchall()
        return [(r[0], writes.from_json(r[1])) for r in rows]

    def remove(self, entry_id: int) -> None:
        with self._db() as conn:
            conn.execute("DELETE FROM entries WHERE id=?", (entry_id,))

    def set_aside(self, entry_id: int, reason: str) -> None:
        with self._db() as conn:
            conn.execute("UPDATE entries SET status='set_aside', reason=? WHERE id=?", (reason, entry_id))

    def counts(self) -> tuple[int, int]:
        """(pending, set aside)."""
        if not self.exists():
            return 0, 0
        rows = dict(self._db().execute("SELECT status, count(*) FROM entries GROUP BY status").fetchall())
        return rows.get("pending", 0), rows.get("set_aside", 0)

    def set_aside_reasons(self) -> list[str]:
        if not self.exists():
            return []
        return [r[0] for r in self._db().execute("SELECT reason FROM entries WHERE status='set_aside' ORDER BY id")]

    def close(self) -> None:
        """Close; delete the file if nothing is left in it (a set-aside record keeps it)."""
        if self._conn is None:
            return
        try:
            empty = self._conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0
        except driver.DatabaseError:
            empty = False
        self._conn.close()
        self._conn = None
        if empty:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)


def replay(spool: Spool, apply) -> tuple[int, int]:
    """Apply every pending record in order (``apply`` = SessionStore.apply); return (replayed, set aside).

    Operational errors propagate (the store is still not writable: try later).
    """
    from assist.store.errors import SetAside

    done = aside = 0
    while True:
        batch = spool.pending()
        if not batch:
            return done, aside
        for entry_id, record in batch:
            try:
                apply(record)
            except SetAside as e:
                spool.set_aside(entry_id, str(e))
                aside += 1
                continue
            spool.remove(entry_id)
            done += 1
