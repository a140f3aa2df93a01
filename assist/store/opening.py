"""open_store: find, create, check, repair and migrate the session database.

On every open: the folder and file are created owner-only; a file that is not a
usable SQLite database is renamed ``sessions.db.corrupt-<UTC timestamp>`` (its
-wal/-shm too) and a new one started, with ``store.open_warning`` saying so (not an
exception: the agent's call must still be recorded; the UI and CLI show the
message); the schema is migrated; sessions left ``open`` by a process that no
longer runs (kill -9, crash, power cut) are closed as ``interrupted``.
Runs on the thread that opens the store (app start, CLI command).
"""
from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from assist.store.connection import CorruptDatabase, check_header, connect, ensure_private_file
from assist.store.errors import StoreError
from assist.store.liveness import pid_alive
from assist.store.masking import masking_enabled
from assist.store.migrations import migrate
from assist.store.paths import default_db_path
from assist.store.store import SessionStore

log = logging.getLogger(__name__)


def set_aside(path: Path) -> Path:
    """Rename a damaged database (and its WAL/SHM) out of the way; return the new name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def _open_checked(path: Path) -> sqlite3.Connection:
    """Create/check/migrate; CorruptDatabase only when the file itself is damaged.

    Operational errors (locked, read-only, I/O) become StoreError and leave the file alone.
    """
    ensure_private_file(path)
    check_header(path)
    try:
        conn = connect(path, writer=True)
    except sqlite3.OperationalError as e:
        raise StoreError(f"cannot open the session database {path}: {e}") from e
    try:
        migrate(sqlite_utils.Database(conn))
    except StoreError:
        conn.close()
        raise
    except sqlite3.OperationalError as e:
        conn.close()
        raise StoreError(f"cannot prepare the session database {path}: {e}") from e
    except sqlite3.DatabaseError as e:
        conn.close()
        raise CorruptDatabase(f"{path}: {e}") from e
    return conn


def close_interrupted(db: sqlite_utils.Database) -> tuple[str, ...]:
    """Mark sessions still open whose recording process is gone as interrupted; return their ids.

    Their end time is the last moment something was committed for them.
    """
    rows = db.execute("SELECT id, owner_pid, started_at FROM sessions WHERE status='open'").fetchall()
    dead = [r for r in rows if not pid_alive(r[1])]
    with db.atomic():
        for sid, _pid, started in dead:
            last = db.execute(
                "SELECT max(recorded_at) FROM (SELECT recorded_at FROM utterances WHERE session_id=?"
                " UNION ALL SELECT recorded_at FROM call_events WHERE session_id=?)", (sid, sid)).fetchone()[0]
            db.execute("UPDATE sessions SET status='interrupted', ended_at=? WHERE id=?",
                       (last if last is not None else started, sid))
    return tuple(r[0] for r in dead)


def open_store(path: str | Path | None = None, *, mask: bool | None = None) -> SessionStore:
    """Open (creating, repairing, migrating) the session database; see the module docstring.

    ``path`` None -> ``default_db_path()``. ``mask`` None -> on unless ``ASSIST_MASK=0``.
    Raises StoreError when the file cannot be used at all (folder not writable, newer schema).
    """
    path = Path(path).expanduser() if path is not None else default_db_path()
    mask = masking_enabled() if mask is None else mask
    warning = None
    try:
        try:
            conn = _open_checked(path)
        except CorruptDatabase as e:
            aside = set_aside(path)
            warning = (f"The session database was damaged ({e}). It was kept as {aside} "
                       f"and a new, empty one was started at {path}.")
            log.warning(warning)
            conn = _open_checked(path)
    except CorruptDatabase as e:
        raise StoreError(f"cannot start a new session database at {path}: {e}") from e
    except OSError as e:
        raise StoreError(f"cannot open the session database {path}: {e.strerror or e}") from e
    db = sqlite_utils.Database(conn)
    try:
        interrupted = close_interrupted(db)
    except sqlite3.OperationalError as e:  # read-only file: still readable for review
        log.warning("could not close interrupted sessions in %s: %s", path, e)
        interrupted = ()
    return SessionStore(path, conn, mask=mask, open_warning=warning, interrupted=interrupted)
