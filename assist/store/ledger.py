"""The contact ledger: how often each debtor (case) was called and reached, per day.

The guideline allows at most 3 connected collection calls per debtor per day across
the lender and its agencies. With a case id on the call, the ledger counts this desk's
calls (``LedgerRecorder``, a call subscriber) and the calls the dialer made elsewhere
(``import_contact_log``: the dialer's CSV contact log), and says at call start whether
the day's limit is already reached (``status``).

A file of its own (``ledger.db`` beside ``sessions.db``), not a table of the session
store: it holds no transcript, only case id, time, connected or not, agent and where
the row came from, so a team can pool it (import the dialer's log and each other's
exports) without ever passing transcripts around; and it has its own small schema
history (``MIGRATIONS``), so the session store's migrations stay the records team's.
Days are calendar days in the desk's local time zone (the debtor's, for a desk that
calls one region; say so in the case data otherwise).

Thread: any; one writer lock per ledger, short transactions, WAL like the session store.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import sqlite_utils

from assist.events import AssistResult, CallEnded, CallStarted, ContactLimit
from assist.store.connection import ensure_private_file
from assist.store.errors import StoreError
from assist.store.paths import data_dir
from assist.zh.identifiers import MAX_LEN as _CASE_MAX_LEN
from assist.zh.identifiers import mask_case_id, normalise_case_id

LEDGER_FILENAME = "ledger.db"
DEMO_LEDGER_FILENAME = "demo-ledger.db"  # the demo's calls never count against a real case
DEFAULT_DAILY_LIMIT = 3  # connected calls per debtor per day (2026 collection guideline)
# What an agent or a dialer may write: letters, digits and the separators the house's
# normalisation drops (assist.zh.identifiers), full-width forms included (NFKC first).
_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/#\s·、，,:：]*$")


class LedgerError(StoreError):
    """A user-facing problem with the ledger or what was given to it (message in Chinese)."""


def case_key(value: str | None) -> str:
    """The ledger's key for a case: the house's one normalisation of a case id, or ValueError (Chinese).

    The panel's case field, the session store and review all normalise an id the same way
    (``CJ-1``, ``cj 1`` and ``ＣＪ１`` are one case, ``CJ1``); the ledger must too, or a call
    typed into the panel and the dialer's log of the same case would be counted apart.
    """
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise ValueError("案件号为空")
    if not _CASE_ID.match(text):
        raise ValueError(f"案件号“{text[:40]}”格式不对（只能由字母、数字和空格、- _ . / 等分隔符组成）")
    key = normalise_case_id(text)
    if not key or len(re.sub(r"[^A-Za-z0-9]", "", text)) > _CASE_MAX_LEN:
        raise ValueError(f"案件号“{text[:40]}”格式不对（去掉分隔符后应为 1 到 {_CASE_MAX_LEN} 个字母或数字）")
    return key


def check_case_id(value: str | None) -> str:
    """The case's key (see ``case_key``); a LedgerError saying what is wrong if it cannot be one."""
    if not (value or "").strip():
        raise LedgerError("案件号为空：请在面板的“案件号”一栏填入本次通话的案件号（或用 --case-id 指定）。")
    try:
        return case_key(value)
    except ValueError as e:
        raise LedgerError(f"{e}，请对照外呼系统里的案件号重新填写。") from None


# -- schema --------------------------------------------------------------------------------

def _v1(db: sqlite_utils.Database) -> None:
    db.table("contacts").create(
        {"id": int, "case_id": str, "day": str, "at": float, "connected": int, "agent": str,
         "source": str,  # 'assist' (this desk) | 'import' (a dialer or colleague's log)
         "session_id": str, "row_key": str},
        pk="id", not_null={"case_id", "day", "at", "connected"},
    )
    db.execute("CREATE UNIQUE INDEX idx_contacts_row_key ON contacts(row_key)")  # an import run twice counts once
    db.table("contacts").create_index(["case_id", "day"])


def _v2(db: sqlite_utils.Database) -> None:
    """Case ids as the rest of the house keys them (``CJ-1`` -> ``CJ1``): v1 kept them as typed,
    so the panel's normalised id and the dialer's raw one counted as two cases. A row whose id
    cannot be normalised keeps it; rows that become the same call count once."""
    rows = db.execute("SELECT id, case_id, at, connected, agent FROM contacts ORDER BY id").fetchall()
    for rowid, raw, at, connected, agent in rows:
        try:
            key = case_key(raw)
        except ValueError:
            continue
        if key == raw:
            continue
        row_key = _row_key(key, at, bool(connected), agent or "")
        if db.execute("SELECT 1 FROM contacts WHERE row_key = ? AND id != ?", (row_key, rowid)).fetchone():
            db.execute("DELETE FROM contacts WHERE id = ?", (rowid,))
        else:
            db.execute("UPDATE contacts SET case_id = ?, row_key = ? WHERE id = ?", (key, row_key, rowid))


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2)


def _migrate(db: sqlite_utils.Database) -> None:
    start = db.execute("PRAGMA user_version").fetchone()[0]
    if start > len(MIGRATIONS):
        raise LedgerError(f"联系记录库的版本（{start}）比本程序新，请升级 assist 后再使用。")
    for version in range(start + 1, len(MIGRATIONS) + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {version}")


# -- the ledger ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DayStatus:
    """One case on one day: how many calls connected and how many were tried."""

    case_id: str
    day: date
    connected: int
    attempts: int
    limit: int

    @property
    def reached(self) -> bool:
        return self.connected >= self.limit

    @property
    def message(self) -> str:
        return self.message_for(self.case_id)

    @property
    def masked_message(self) -> str:
        """The message with the case id masked as the panel shows it (``CJ20****0017``)."""
        return self.message_for(mask_case_id(self.case_id))

    def message_for(self, shown_id: str) -> str:
        when = "今天" if self.day == date.today() else f"{self.day:%Y-%m-%d}"
        if self.reached:
            return (f"案件 {shown_id} {when}已接通 {self.connected} 次（上限 {self.limit} 次，另有未接通 "
                    f"{self.attempts - self.connected} 次）。按催收指引，当天不宜再次催收，请改约次日。")
        return f"案件 {shown_id} {when}已接通 {self.connected} 次，已拨打 {self.attempts} 次（每日接通上限 {self.limit} 次）。"


@dataclass
class ImportResult:
    added: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)  # one Chinese message per bad row, naming it


def _row_key(case_id: str, at: float, connected: bool, agent: str) -> str:
    return hashlib.sha256(f"{case_id}|{round(at)}|{int(connected)}|{agent}".encode()).hexdigest()[:32]


class ContactLedger:
    """One open ledger file. Build it with ``open_ledger``."""

    def __init__(self, path: Path, conn, daily_limit: int = DEFAULT_DAILY_LIMIT):
        self.path = path
        self.daily_limit = daily_limit
        self._db = sqlite_utils.Database(conn)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def record_call(self, case_id: str, at: float, *, connected: bool, agent: str = "",
                    session_id: str = "", source: str = "assist") -> bool:
        """Count one call; False if the same call was already counted."""
        case_id = check_case_id(case_id)
        day = datetime.fromtimestamp(at).date().isoformat()
        row = {"case_id": case_id, "day": day, "at": at, "connected": int(connected), "agent": agent,
               "source": source, "session_id": session_id, "row_key": _row_key(case_id, at, connected, agent)}
        with self._lock, self._db.atomic():
            cur = self._db.execute(
                "INSERT OR IGNORE INTO contacts (case_id, day, at, connected, agent, source, session_id, row_key)"
                " VALUES (:case_id, :day, :at, :connected, :agent, :source, :session_id, :row_key)", row)
            return cur.rowcount == 1

    def status(self, case_id: str, day: date | None = None) -> DayStatus:
        case_id = check_case_id(case_id)
        day = day or date.today()
        with self._lock:
            connected, attempts = self._db.execute(
                "SELECT coalesce(sum(connected), 0), count(*) FROM contacts WHERE case_id = ? AND day = ?",
                (case_id, day.isoformat())).fetchone()
        return DayStatus(case_id, day, int(connected), int(attempts), self.daily_limit)

    def rows(self, case_id: str | None = None) -> list[dict]:
        sql = "SELECT case_id, day, at, connected, agent, source, session_id FROM contacts"
        args: tuple = ()
        if case_id:
            sql, args = sql + " WHERE case_id = ?", (check_case_id(case_id),)
        with self._lock:
            cur = self._db.execute(sql + " ORDER BY at", args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def export_csv(self) -> str:
        """Every row as a contact log in the import format, for a colleague's ledger to import."""
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["案件号", "呼叫时间", "是否接通", "坐席"])
        for r in self.rows():
            w.writerow([r["case_id"], datetime.fromtimestamp(r["at"]).strftime("%Y-%m-%d %H:%M:%S"),
                        "接通" if r["connected"] else "未接通", r["agent"]])
        return out.getvalue()

    def import_contact_log(self, path: str | Path) -> ImportResult:
        """Add the rows of a dialer's contact log (CSV); bad rows are reported and skipped.

        Columns by header (Chinese or English): case id (案件号 / case_id), call time
        (呼叫时间 / started_at), connected (是否接通 / 结果 / connected: 接通, 已接通, 是,
        1, answered …), agent (坐席 / agent, optional). UTF-8 (with or without BOM) or
        GB18030 (what Chinese Windows tools write). Good rows are kept even when others
        are bad; a row already in the ledger counts once.
        """
        text = _read_text(Path(path))
        result = ImportResult()
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise LedgerError(f"{Path(path).name}：文件是空的，没有可导入的联系记录。")
        cols = _columns(header, Path(path).name)
        batch = []
        for n, row in enumerate(reader, start=2):
            if not any(c.strip() for c in row):
                continue
            try:
                batch.append(_parse_row(row, cols))
            except ValueError as e:
                result.problems.append(f"第 {n} 行：{e}，已跳过。")
        with self._lock, self._db.atomic():
            for case_id, at, connected, agent in batch:
                key = _row_key(case_id, at, connected, agent)
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO contacts (case_id, day, at, connected, agent, source, session_id, row_key)"
                    " VALUES (?, ?, ?, ?, ?, 'import', '', ?)",
                    (case_id, datetime.fromtimestamp(at).date().isoformat(), at, int(connected), agent, key))
                if cur.rowcount == 1:
                    result.added += 1
                else:
                    result.duplicates += 1
        return result


def _connect(path: Path) -> sqlite3.Connection:
    """Plain SQLite (owner-only file, WAL, durable commits): the ledger holds case ids and times,
    no transcript, and is meant to be exported and pooled; the session store's key does not cover it."""
    conn = sqlite3.connect(str(path), timeout=5.0, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.close()
        raise sqlite3.OperationalError(f"cannot use WAL mode on this file system (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def default_ledger_path() -> Path:
    return data_dir() / LEDGER_FILENAME


def demo_ledger_path() -> Path:
    """``<data dir>/demo-ledger.db``: the demo call's counts, never in the agent's real ledger."""
    return data_dir() / DEMO_LEDGER_FILENAME


def open_ledger(path: str | Path | None = None, daily_limit: int = DEFAULT_DAILY_LIMIT) -> ContactLedger:
    """Open (creating, owner-only, WAL) and migrate the ledger file."""
    p = Path(path) if path else default_ledger_path()
    try:
        ensure_private_file(p)
        conn = _connect(p)
    except Exception as e:  # locked, unreadable, not a database: the call goes on without a ledger
        raise LedgerError(f"无法打开联系记录库 {p}：{e}。请检查该文件或用 --ledger 指定其他位置。") from e
    db = sqlite_utils.Database(conn)
    _migrate(db)
    return ContactLedger(p, conn, daily_limit)


# -- reading a dialer's CSV ----------------------------------------------------------------

_HEADERS = {
    "case_id": ("案件号", "案件编号", "案件id", "借据号", "客户编号", "case_id", "case", "caseid", "account"),
    "at": ("呼叫时间", "拨打时间", "外呼时间", "通话时间", "开始时间", "时间", "started_at", "time", "call_time", "start"),
    "connected": ("是否接通", "接通", "呼叫结果", "结果", "通话结果", "状态", "connected", "result", "status", "outcome"),
    "agent": ("坐席", "坐席工号", "工号", "催收员", "agent", "agent_id"),
}
_YES = {"接通", "已接通", "是", "1", "true", "yes", "y", "connected", "answered", "成功", "通话"}
_NO = {"未接通", "未接", "否", "0", "false", "no", "n", "no_answer", "noanswer", "busy", "failed", "占线", "无人接听",
       "关机", "空号", "拒接", "停机", "失败", "未应答", "忙"}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                 "%Y-%m-%dT%H:%M", "%Y%m%d%H%M%S")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LedgerError(f"找不到联系记录文件：{path}") from None
    except OSError as e:
        raise LedgerError(f"无法读取联系记录文件 {path}：{e.strerror}") from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise LedgerError(f"{path.name}：既不是 UTF-8 也不是 GBK 编码的文本，请从外呼系统重新导出为 CSV。")


def _columns(header: list[str], name: str) -> dict[str, int]:
    norm = [h.strip().lower().replace(" ", "") for h in header]
    cols = {}
    for key, names in _HEADERS.items():
        for i, h in enumerate(norm):
            if h in names:
                cols[key] = i
                break
    missing = [k for k in ("case_id", "at", "connected") if k not in cols]
    if missing:
        wanted = {"case_id": "案件号", "at": "呼叫时间", "connected": "是否接通"}
        raise LedgerError(f"{name}：第 1 行（表头）缺少列：{'、'.join(wanted[k] for k in missing)}。"
                          f"表头是：{'，'.join(header)}。请在第 1 行写明案件号、呼叫时间、是否接通（坐席可选）。")
    return cols


def _parse_row(row: list[str], cols: dict[str, int]) -> tuple[str, float, bool, str]:
    def cell(key: str) -> str:
        i = cols.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    case_id = case_key(cell("case_id"))  # ValueError names what is wrong with it
    raw_time = cell("at")
    at = None
    for fmt in _TIME_FORMATS:
        try:
            at = datetime.strptime(raw_time, fmt).timestamp()
            break
        except ValueError:
            continue
    if at is None:
        raise ValueError(f"呼叫时间“{raw_time[:40]}”无法识别（应为 2026-11-23 14:05 这样的格式）")
    raw_conn = cell("connected").lower().replace(" ", "")
    if raw_conn in _YES:
        connected = True
    elif raw_conn in _NO:
        connected = False
    else:
        raise ValueError(f"是否接通“{raw_conn[:20]}”无法识别（应为 接通 / 未接通，或 1 / 0）")
    return case_id, at, connected, cell("agent")


# -- counting this desk's calls ------------------------------------------------------------

class LedgerRecorder:
    """Call subscriber: counts the call in the ledger when it ends (any thread, quick).

    At ``CallStarted`` with a case id it reports the day's count through ``on_status``
    (the panel warns when the limit is reached); at ``CallEnded`` it records the call,
    connected if anyone but the agent was heard. Without a case id it does nothing:
    the ledger counts cases, and a call without one cannot be attributed.
    """

    def __init__(self, ledger: ContactLedger, on_status: Callable[[ContactLimit], None] | None = None,
                 agent: str = "", clock: Callable[[], float] = time.time,
                 case_id: Callable[[], str] | None = None):
        """``case_id``: where to read the case when CallStarted carries none (the panel's field)."""
        self.ledger = ledger
        self.on_status = on_status
        self.agent = agent
        self._case_source = case_id
        self._clock = clock
        self._case_id = ""
        self._session = ""
        self._started = 0.0
        self._heard = False

    def __call__(self, event: object) -> None:
        if isinstance(event, CallStarted):
            case_id = event.case_id or (self._case_source() if self._case_source else "")
            self._session, self._started, self._heard = event.session_id, event.started_at, False
            try:
                self._case_id = check_case_id(case_id) if case_id else ""
            except LedgerError as e:  # a mistyped case id: say so, count nothing
                self._case_id = ""
                if self.on_status:
                    self.on_status(ContactLimit(case_id, 0, 0, self.ledger.daily_limit, False, str(e)))
                return
            if self._case_id and self.on_status:
                s = self.ledger.status(self._case_id, datetime.fromtimestamp(event.started_at).date())
                self.on_status(ContactLimit(s.case_id, s.connected, s.attempts, s.limit, s.reached,
                                            s.masked_message))
        elif isinstance(event, AssistResult):
            if event.utterance.final and event.utterance.speaker in ("customer", "unknown") and event.utterance.text.strip():
                self._heard = True
        elif isinstance(event, CallEnded) and self._case_id:
            self.ledger.record_call(self._case_id, self._started, connected=self._heard, agent=self.agent,
                                    session_id=self._session)
            self._case_id = ""

