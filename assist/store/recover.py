"""Salvage: copy every readable row of a damaged store (one set aside at open) into the live one.

SQLite's recovery extension and the CLI's ``.recover`` are not available to us
(checked 2026-11-28): the sqlcipher3 wheel has no sqlite_dbpage; Debian 12's
``sqlite3`` 3.40.1 has ``.recover`` but no sqlite_dbpage and cannot decrypt;
Debian's ``sqlcipher`` shell is 3.4.1 (SQLite 3.15.2, 2016): no ``.recover`` and it
cannot open a SQLCipher 4 file at all; ``apsw-sqlite3mc`` 3.54 opens our files
(``cipher='sqlcipher'``, ``legacy=4``, raw key) but has no sqlite_dbpage and no
``.recover`` either. ``.dump`` stops at the first bad page.
So this reads table by table, in rowid ranges: a range that reads cleanly is
copied whole; one that hits a damaged page is split in halves until single
rows, and a row that cannot be read is counted as lost. Sessions come first,
then utterances (their new row ids are mapped, since the live store has rows
of its own), then the tables that point at them. A child row whose session was
lost gets a placeholder session (status 'recovered') so nothing readable is
dropped for want of its parent. Limit: every row below a damaged *interior* page
of a table's b-tree is out of reach (the b-tree is the only way in); those rows
are counted as not readable. Reaching them means parsing leaf pages ourselves.

``salvage(damaged_path, store, keys)`` -> Salvage report (per table: saved, lost).
Runs on the caller's thread (the ``assist sessions recover`` command).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assist.store import driver
from assist.store.connection import SQLITE_HEADER, connect_plain, open_keyed

CHUNK = 256
# ordered so parents come before the rows that point at them
TABLES = ("sessions", "utterances", "faq_hits", "suggestions", "warnings", "stages", "call_events", "summaries",
          "audit", "party_settings")
# tables a later schema version added: a damaged file from before them simply has none (not a loss)
LATER_TABLES = ("party_settings",)
# when max(rowid) cannot be read, probe this far past the last readable row
PROBE_LIMIT = 1_000_000


@dataclass
class Salvage:
    source: Path
    saved: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    unreadable_tables: list[str] = field(default_factory=list)
    placeholders: int = 0

    @property
    def total_saved(self) -> int:
        return sum(self.saved.values())

    @property
    def total_lost(self) -> int:
        return sum(self.lost.values())


def _open_damaged(path: Path, keys: list[str]):
    """A read connection to the damaged file: plaintext, or the first key that decrypts page 1."""
    with open(path, "rb") as f:
        plain = f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    if plain:
        conn = connect_plain(path)
        conn.row_factory = None
        return conn
    last: BaseException | None = None
    for key in keys:
        try:
            conn, _fmt = open_keyed(lambda: driver.connect_encrypted(str(path), check_same_thread=False), key)
            conn.execute("PRAGMA query_only = 1")
            return conn
        except driver.DatabaseError as e:
            last = e
    from assist.store.errors import StoreError

    raise StoreError(f"无法读取 {path}：{last or '没有可用的密钥'}。文件开头（第一页）已损坏，或它是用本机没有的密钥加密的；"
                     f"若是后者，请先用 assist sessions key import 导入密钥备份再运行 recover。")


def _columns(conn, table: str) -> list[str] | None:
    try:
        rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    except driver.DatabaseError:
        return None
    return [r[1] for r in rows] or None


def _absent(conn, table: str) -> bool:
    """True when the file's schema reads cleanly and has no such table (an older version's file)."""
    try:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is None
    except driver.DatabaseError:
        return False


def _max_rowid(conn, table: str) -> int | None:
    for sql in (f"SELECT max(rowid) FROM {table}", f"SELECT rowid FROM {table} ORDER BY rowid DESC LIMIT 1"):
        try:
            row = conn.execute(sql).fetchone()
            return (row[0] or 0) if row else 0
        except driver.DatabaseError:
            continue
    return None


class _Reader:
    """The damaged file's connection, reopened after every read error: SQLite may keep a pager in its
    error state after a corrupt page, which would fail every later read of good pages too."""

    def __init__(self, path: Path, keys: list[str]):
        self.path, self.keys = path, keys
        self.conn = _open_damaged(path, keys)

    def execute(self, sql, params=()):
        try:
            return self.conn.execute(sql, params)
        except driver.DatabaseError:
            self.reopen()
            raise

    def reopen(self):
        try:
            self.conn.close()
        except driver.DatabaseError:
            pass
        self.conn = _open_damaged(self.path, self.keys)

    def close(self):
        self.conn.close()


def _read_range(conn, table: str, cols: list[str], lo: int, hi: int, out: list, lost: list[int]) -> None:
    """Rows with lo <= rowid <= hi into ``out``; bisect around damage; unreadable single rowids into ``lost``."""
    sql = f"SELECT rowid, {', '.join(cols)} FROM {table} WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
    try:
        out.extend(conn.execute(sql, (lo, hi)).fetchall())
        return
    except driver.DatabaseError:
        pass
    if lo == hi:
        lost.append(lo)
        return
    mid = (lo + hi) // 2
    _read_range(conn, table, cols, lo, mid, out, lost)
    _read_range(conn, table, cols, mid + 1, hi, out, lost)


def read_table(conn, table: str) -> tuple[list[str], list[tuple], int] | None:
    """(columns, readable rows as tuples starting with rowid, count of rowids that could not be read)."""
    cols = _columns(conn, table)
    if cols is None:
        return None
    top = _max_rowid(conn, table)
    rows: list = []
    lost: list[int] = []
    if top is None:  # the table's interior pages are damaged: walk ranges until a long empty stretch
        lo, empty_run = 1, 0
        while lo < PROBE_LIMIT and empty_run < 40:
            before = len(rows)
            _read_range(conn, table, cols, lo, lo + CHUNK - 1, rows, lost)
            empty_run = empty_run + 1 if len(rows) == before else 0
            lo += CHUNK
    else:
        for lo in range(1, top + 1, CHUNK):
            _read_range(conn, table, cols, lo, min(lo + CHUNK - 1, top), rows, lost)
    # a bisected single rowid that simply does not exist (a gap) is not a loss: only count errors
    return cols, [tuple(r) for r in rows], len(lost)


def salvage(damaged: Path, store, keys: list[str]) -> Salvage:
    """Copy what can be read from ``damaged`` into ``store`` (SessionStore); see the module docstring."""
    report = Salvage(Path(damaged))
    src = _Reader(Path(damaged), keys)
    try:
        tables = {t: read_table(src, t) for t in TABLES}
        for t in LATER_TABLES:
            if tables[t] is None and _absent(src, t):
                del tables[t]
    finally:
        src.close()
    uid_map: dict[int, int] = {}

    def op(db):
        known = {r[0] for r in db.execute("SELECT id FROM sessions").fetchall()}

        def ensure_session(sid):
            if sid is None or sid in known:
                return
            db.execute("INSERT INTO sessions (id, status, started_at, notes, masked, kind) VALUES (?,?,?,?,?,?)",
                       (sid, "recovered", None, "（恢复的记录：原会话信息无法读取）", 1, "live"))
            known.add(sid)
            report.placeholders += 1

        target_cols = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})").fetchall()} for t in TABLES}
        for table in TABLES:
            if table not in tables:
                continue
            got = tables[table]
            if got is None:
                report.unreadable_tables.append(table)
                continue
            cols, rows, lost = got
            keep = [c for c in cols if c in target_cols[table] and not (c == "id" and table != "sessions")]
            saved = 0
            for row in rows:
                values = dict(zip(["rowid", *cols], row))
                if table == "audit":
                    pass
                elif table == "sessions":
                    if values["id"] in known:
                        continue  # already there (a recover run twice): keep the live copy
                else:
                    ensure_session(values.get("session_id"))
                if "utterance_id" in values and values["utterance_id"] is not None:
                    if values["utterance_id"] not in uid_map:
                        continue  # its utterance was lost: the row would point at nothing
                    values["utterance_id"] = uid_map[values["utterance_id"]]
                if "write_key" in values and values["write_key"] is not None:
                    # utterances: by (session_id, write_key), the index that table has (migration 6)
                    if db.execute(f"SELECT 1 FROM {table} WHERE write_key=? AND session_id=?",
                                  (values["write_key"], values.get("session_id"))).fetchone():
                        continue
                try:
                    cur = db.execute(f"INSERT INTO {table} ({', '.join(keep)}) VALUES ({', '.join('?' * len(keep))})",
                                     [values[c] for c in keep])
                except driver.IntegrityError:
                    lost += 1
                    continue
                if table == "sessions":
                    known.add(values["id"])
                if table == "utterances":
                    uid_map[values.get("id", values["rowid"])] = cur.lastrowid
                saved += 1
            report.saved[table] = saved
            report.lost[table] = lost
    store._write(op)
    return report
