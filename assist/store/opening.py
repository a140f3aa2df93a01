"""open_store: find, create, decrypt, check, repair, migrate the session database.

On every open:
- the folder and file are created owner-only; the key comes from keys.py
  (created on first run only, when a new store is made);
- a plaintext store from an earlier version is encrypted in place, after a copy
  is kept beside it (``sessions.db.plain-backup-<UTC stamp>``, owner-only);
- an encrypted store in the older cipher format (connection.LEGACY: 4 KB pages,
  HMAC-SHA512) is rewritten in the current one through a verified encrypted copy,
  when no other connection has it open (else it is used as it is, and converted at
  a later open);
- ``PRAGMA quick_check``; a damaged store (or one no key of ours opens) is renamed
  ``sessions.db.corrupt-<UTC stamp>`` (its -wal/-shm too; kept, never deleted), a
  new one is started so live assistance works, and ``store.open_warning`` says so in
  Chinese with the command that salvages it (``assist sessions recover``);
- a file that is not recognisably a store (no SQLite header and a name not ending
  in ``.db``, e.g. ``--db report.docx``; or an SQLite file with other tables) is
  refused with StoreError and left exactly as it was;
- the schema is migrated (a newer schema is refused, untouched);
- journals left by a process that died mid-outage are replayed (spool.py);
- sessions left ``open`` by a process that no longer runs are closed as ``interrupted``.
Runs on the thread that opens the store (app start, CLI command).
"""
from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from assist.store import driver
from assist.store.connection import (
    CURRENT,
    CorruptDatabase,
    WrongKey,
    cipher_format,
    connect,
    connect_plain,
    ensure_private_file,
    file_kind,
    integrity_problem,
    light_problem,
    FULL_CHECK_MAX_BYTES,
)
from assist.store.errors import StoreError
from assist.store.keys import KeyChain, load_keys, save_keys, sql_key
from assist.store.liveness import pid_alive
from assist.store.masking import masking_enabled
from assist.store.migrations import migrate
from assist.store.paths import default_db_path
from assist.store.spool import Spool, leftover_spools, replay
from assist.store.store import SessionStore

log = logging.getLogger(__name__)


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def set_aside(path: Path) -> Path:
    """Rename a damaged database (and its WAL/SHM) out of the way; return the new name."""
    stamp = _stamp()
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


def damaged_message(path: Path, aside: Path, reason: str) -> str:
    return (f"通话记录库已损坏（{reason}）。损坏的文件已原样保留为 {aside}，并已新建一个空的记录库，"
            f"通话照常记录。运行 assist sessions recover 可把旧文件中还能读出的记录救回到新库。")


def _operational(path: Path, e: BaseException) -> StoreError:
    text = str(e).lower()
    if driver.is_busy(e):
        why, fix = "正被其他程序占用", "关闭正在使用该文件的程序后重试"
    elif "readonly" in text or "read-only" in text:
        why, fix = "是只读的", "检查该文件和所在文件夹的写权限"
    elif "full" in text:
        why, fix = "所在磁盘已满", "清理磁盘空间后重试"
    else:
        why, fix = f"无法打开（{e}）", "检查数据目录（ASSIST_DATA_DIR）是否存在且可写"
    return StoreError(f"通话记录库 {path} {why}，本次不会记录通话；已保存的记录未做任何改动。", f"请{fix}。")


def _open_with_keys(path: Path, keys: list[str]):
    """(connection, key) for the first key that opens ``path``; WrongKey if none does."""
    last: Exception | None = None
    for key in keys:
        try:
            return connect(path, writer=True, key=key), key
        except WrongKey as e:
            last = e
    raise WrongKey(str(last) if last else f"{path}: no key")


def _looks_like_ours(path: Path) -> bool:
    # an encrypted store has no header to recognise it by: go by our naming convention
    return path.suffix == ".db" or ".db." in path.name


def _plain_is_ours(path: Path) -> bool:
    """A plaintext SQLite file is ours if it is empty of tables or has our sessions table."""
    conn = connect_plain(path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    return not names or "sessions" in names


def encrypt_plaintext(path: Path, key: str) -> Path:
    """Encrypt an earlier version's plaintext store in place; return the backup kept beside it.

    The backup is written first (owner-only); the encrypted copy is built next to
    the file and renamed over it only when complete, so a crash leaves either
    the old file or the new one, never half of either.
    """
    plain = connect_plain(path)
    try:
        problem = integrity_problem(plain)
        if problem:
            raise CorruptDatabase(problem)
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        version = plain.execute("PRAGMA user_version").fetchone()[0]
    except driver.OperationalError:
        plain.close()
        raise
    except driver.DatabaseError as e:
        plain.close()
        raise CorruptDatabase(str(e)) from e
    plain.close()
    backup = path.with_name(f"{path.name}.plain-backup-{_stamp()}")
    fd = os.open(backup, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
    tmp = path.with_name(path.name + ".encrypting")
    tmp.unlink(missing_ok=True)
    ensure_private_file(tmp)
    conn = driver.connect_encrypted(str(path))
    try:
        _export_encrypted(conn, tmp, key, version)
    finally:
        conn.close()
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return backup


def _export_encrypted(conn, dest: Path, key: str, version: int) -> None:
    """Copy the database open on ``conn`` into ``dest``, encrypted with ``key`` in the CURRENT format."""
    quoted = str(dest).replace("'", "''")
    conn.execute(f"ATTACH DATABASE '{quoted}' AS exported KEY {sql_key(key)}")
    for statement in CURRENT.pragmas("exported"):
        conn.execute(statement)
    conn.execute("SELECT sqlcipher_export('exported')")
    conn.execute(f"PRAGMA exported.user_version = {int(version)}")  # not copied by sqlcipher_export
    conn.execute("DETACH DATABASE exported")


def _row_counts(conn) -> dict[str, int]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"
                                        " AND name NOT LIKE 'sqlite_%'").fetchall()]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def convert_format(path: Path, key: str) -> bool:
    """Rewrite an encrypted store in the CURRENT cipher format; True if done, False if left as it was.

    Call with no connection of ours open on ``path``. A ``-wal`` beside the file means some
    connection (another process, or another store object here) has it open: renaming a
    new file under it would lose what that connection writes, so nothing is done now.
    The copy is made with ``sqlcipher_export`` beside the file, still encrypted with the
    same key, checked (opens in the new format, quick_check, the same row count in every
    table) and only then renamed over the original; a failure removes the copy and leaves
    the original as it was.
    """
    if path.with_name(path.name + "-wal").exists():
        return False
    tmp = path.with_name(path.name + ".converting")
    tmp.unlink(missing_ok=True)
    try:
        src = connect(path, writer=False, key=key)
        try:
            if cipher_format(src) == CURRENT:
                return True
            counts = _row_counts(src)
            version = src.execute("PRAGMA user_version").fetchone()[0]
            ensure_private_file(tmp)
            _export_encrypted(src, tmp, key, version)
        finally:
            src.close()
        check = connect(tmp, writer=False, key=key)
        try:
            ok = (cipher_format(check) == CURRENT and integrity_problem(check) is None
                  and _row_counts(check) == counts
                  and check.execute("PRAGMA user_version").fetchone()[0] == version)
        finally:
            check.close()
        if not ok:
            raise CorruptDatabase("the converted copy does not match the original")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return True
    except (CorruptDatabase, OSError) + driver.DatabaseError as e:
        log.warning("store %s left in its older cipher format: %s", path, e)
        for p in (tmp, tmp.with_name(tmp.name + "-journal")):
            p.unlink(missing_ok=True)
        return False


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


def needs_full_check(path: Path, flag: bool | None = None) -> bool:
    """A marker beside the store: the recorder's background check found damage, so the next open
    runs the full check (and sets the file aside) whatever its size. ``flag`` sets or clears it."""
    marker = path.with_name(path.name + ".needs-check")
    if flag is True:
        marker.touch()
    elif flag is False:
        marker.unlink(missing_ok=True)
    return marker.exists()


def _first_key(chain: KeyChain) -> KeyChain:
    return chain if chain.keys else load_keys(create=True)


def _current(chain: KeyChain) -> str:
    key = chain.current
    assert key is not None  # callers made sure the chain has a key (_first_key) or checked it
    return key


def _connect_store(path: Path, explicit: bool, notes: list[str]):
    """The writer connection and its key, after creating/migrating/setting aside as needed."""
    chain = load_keys()
    kind = file_kind(path)
    if kind == "plain":
        if explicit and not _plain_is_ours(path):
            raise StoreError(f"{path} 是一个 SQLite 数据库，但不是 assist 的通话记录库；为免破坏它，未做任何改动。"
                             f"请用 --db 指定另一个文件名（如 sessions.db）。")
        chain = _first_key(chain)
        try:
            backup = encrypt_plaintext(path, _current(chain))
            notes.append(f"旧版未加密的通话记录库已加密保存。加密前的副本保留在 {backup}（未加密，仅本账户可读），"
                         f"确认记录无误后请删除该副本。")
        except CorruptDatabase as e:
            aside = set_aside(path)
            notes.append(damaged_message(path, aside, str(e)))
        kind = file_kind(path)
    if kind == "other":
        if not _looks_like_ours(path):
            raise StoreError(f"{path} 不是 assist 的通话记录库（也不是数据库文件）；为免破坏它，未做任何改动。"
                             f"请用 --db 指定以 .db 结尾的记录库文件。")
        # no key opening it (or none at all yet): damaged, or encrypted with a key this machine lost.
        # Either way it is renamed aside (kept whole), never deleted; the message names both causes.
        try:
            conn, used = _open_with_keys(path, chain.keys)
        except CorruptDatabase as e:
            aside = set_aside(path)
            reason = ("无法解密：文件可能已损坏，也可能是用本机没有的密钥加密的；若是后者，请先用 "
                      "assist sessions key import 导入团队主管保存的密钥" if isinstance(e, WrongKey) else str(e))
            notes.append(damaged_message(path, aside, reason))
        else:
            full = path.stat().st_size <= FULL_CHECK_MAX_BYTES or needs_full_check(path)
            problem = integrity_problem(conn) if full else light_problem(conn)
            if problem is None:
                if full:
                    needs_full_check(path, False)
                if used != chain.current:  # opened with an older key: move it to the newest
                    conn.execute(f"PRAGMA rekey = {sql_key(_current(chain))}")
                if cipher_format(conn) != CURRENT:  # an older cipher format: rewrite it, if no one else has it open
                    conn.close()
                    convert_format(path, _current(chain))
                    conn = connect(path, writer=True, key=_current(chain))
                return conn, chain
            conn.close()
            aside = set_aside(path)
            notes.append(damaged_message(path, aside, problem))
    # missing, empty, or just set aside: a new store
    chain = _first_key(chain)
    ensure_private_file(path)
    return connect(path, writer=True, key=_current(chain)), chain


def _replay_leftovers(store: SessionStore, notes: list[str], keys: list[str] | None = None) -> None:
    from assist.store.key_files import CannotMove, key_of, move_forward

    for p in leftover_spools(store.path):
        old = key_of(p, keys[1:]) if keys and len(keys) > 1 else None
        if old is not None:  # written before a rekey: moved to the store's key first, then replayed
            try:
                move_forward(p, old, store._key)
            except CannotMove as e:
                notes.append(f"上次未写完的暂存文件 {p} 无法改用当前密钥（{e}），已原样保留。")
                continue
        spool = Spool(p, store._key)
        try:
            replay(spool, store.apply)
            _pending, aside = spool.counts()
        except driver.OperationalError as e:
            log.warning("could not replay journal %s: %s", p, e)
            spool.close()
            continue
        except driver.DatabaseError as e:
            notes.append(f"上次未写完的暂存文件 {p} 无法读取（{e}），已原样保留。")
            spool.close()
            continue
        spool.close()
        if aside:
            notes.append(f"之前有 {aside} 条记录无法写入通话记录库，仍保留在暂存文件 {p}，请交给技术支持检查。")


def open_store(path: str | Path | None = None, *, mask: bool | None = None) -> SessionStore:
    """Open (creating, decrypting, repairing, migrating) the session database; see the module docstring.

    ``path`` None -> ``default_db_path()``. ``mask`` None -> on unless ``ASSIST_MASK=0``.
    Raises StoreError (Chinese, with the fix) when the store cannot be used; nothing recorded is touched then.
    """
    explicit = path is not None
    path = Path(path).expanduser() if path is not None else default_db_path()
    mask = masking_enabled() if mask is None else mask
    notes: list[str] = []
    if path.is_dir():
        raise StoreError(f"{path} 是一个文件夹，不是通话记录库；请用 --db 指定一个文件。")
    try:
        conn, chain = _connect_store(path, explicit, notes)
    except CorruptDatabase as e:
        raise StoreError(f"无法在 {path} 新建通话记录库：{e}") from e
    except driver.OperationalError as e:
        raise _operational(path, e) from e
    except OSError as e:
        raise StoreError(f"无法打开通话记录库 {path}：{e.strerror or e}。请检查数据目录是否存在且可写。") from e
    try:
        migrate(sqlite_utils.Database(conn))
    except StoreError:
        conn.close()
        raise
    except driver.OperationalError as e:
        conn.close()
        raise _operational(path, e) from e
    except driver.DatabaseError as e:
        conn.close()
        raise StoreError(f"通话记录库 {path} 无法升级（{e}）；未做任何改动。请运行 assist sessions recover。") from e
    # the connection now uses the newest key (an older one was moved forward at open)
    store = SessionStore(path, conn, key=_current(chain), mask=mask, key_warning=chain.warning)
    try:
        _replay_leftovers(store, notes, chain.keys)
        store.interrupted_at_open = close_interrupted(store.db)
    except driver.OperationalError as e:  # read-only file: still readable for review
        log.warning("could not finish opening %s: %s", path, e)
    store.open_warning = "\n".join(notes) or None
    if store.open_warning:
        log.warning(store.open_warning)
    return store


def rekey(store: SessionStore) -> KeyChain:
    """Re-encrypt ``store`` with a new key and make it the newest in the chain (older keys kept
    so other stores, e.g. one set aside, still open). Returns the chain."""
    from assist.store.keys import new_key

    chain = load_keys()
    key = new_key()
    chain.keys.insert(0, key)
    save_keys(chain)  # first: a crash after this still leaves a key that opens the file
    store._rekey(key)
    return chain
