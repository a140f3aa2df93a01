"""What a team lead narrows the list of calls by, and the weekly roll-up, without Qt.

``SessionFilter`` holds the filter bar's settings (date range, has warning, has
promise, text said in the call or written in its notes) and decides for one
row of ``SessionStore.list_sessions``; ``weekly_rollup`` counts calls,
warnings by rule and promises per ISO week for the roll-up tab and its CSV
export. The store is asked only for what a row lacks (text matches, promises,
warnings by rule). Any thread; the review window calls it on the GUI thread
(a few hundred sessions read in well under a second).
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from assist.zh.identifiers import normalise_case_id


@dataclass(frozen=True)
class SessionFilter:
    start: date | None = None
    end: date | None = None  # inclusive
    has_warning: bool = False
    has_promise: bool = False
    text: str = ""
    agent: str = ""  # part of the agent's id
    case: str = ""  # part of the case id (normalised like the stored one)

    def select(self, store, sessions: list[dict]) -> list[dict]:
        """The rows of ``sessions`` that pass, in their order."""
        said = store.sessions_saying(self.text.strip()) if self.text.strip() else None
        out = []
        for s in sessions:
            day = datetime.fromtimestamp(s["started_at"]).date() if s.get("started_at") else None
            if self.start and (day is None or day < self.start):
                continue
            if self.end and (day is None or day > self.end):
                continue
            if self.agent and self.agent.strip().upper() not in (s.get("agent_id") or "").upper():
                continue
            if self.case and normalise_case_id(self.case) not in (s.get("case_id") or ""):
                continue
            if self.has_warning and not s.get("n_warnings"):
                continue
            if said is not None and s["id"] not in said:
                continue
            if self.has_promise and not promises_of(store, s["id"]):
                continue
            out.append(s)
        return out


def promises_of(store, session_id: str) -> list[dict]:
    try:
        return store.summary(session_id).get("promises") or []
    except Exception:  # a damaged session is shown without promises rather than breaking the list
        return []


@dataclass(frozen=True)
class WeekRow:
    week: str  # e.g. 2026 年第 48 周
    monday: date
    agent: str  # the agent's id, "" for calls taken before one was set
    calls: int
    warnings: int
    critical: int
    by_rule: tuple[tuple[str, int], ...]  # (rule title, count), most first
    promises: int


def weekly_rollup(store, sessions: list[dict]) -> list[WeekRow]:
    """Per ISO week and agent, newest week first: calls, warnings (critical), warnings by rule, promises."""
    weeks: dict[tuple[int, int, str], dict] = {}
    for s in sessions:
        if not s.get("started_at"):
            continue
        d = datetime.fromtimestamp(s["started_at"]).date()
        y, w, _ = d.isocalendar()
        acc = weeks.setdefault((y, w, s.get("agent_id") or ""), {"calls": 0, "warnings": 0, "critical": 0, "rules": Counter(),
                                        "promises": 0, "monday": date.fromisocalendar(y, w, 1)})
        acc["calls"] += 1
        acc["warnings"] += s.get("n_warnings") or 0
        acc["critical"] += s.get("n_critical") or 0
        if s.get("n_warnings"):
            acc["rules"].update(w["title"] for w in store.warnings(s["id"]))
        acc["promises"] += len(promises_of(store, s["id"]))
    ordered = sorted(weeks.items(), key=lambda kv: (-kv[0][0], -kv[0][1], kv[0][2]))
    return [WeekRow(f"{y} 年第 {w} 周", a["monday"], agent, a["calls"], a["warnings"], a["critical"],
                    tuple(a["rules"].most_common()), a["promises"])
            for (y, w, agent), a in ordered]


def rollup_csv(rows: list[WeekRow]) -> str:
    """The roll-up as CSV with Chinese headers (UTF-8 with BOM, so spreadsheet programs read it)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["周", "起始日", "坐席", "通话数", "合规警告", "其中严重", "还款承诺", "警告按规则"])
    for r in rows:
        out.writerow([r.week, r.monday.isoformat(), r.agent or "未设置", r.calls, r.warnings, r.critical, r.promises,
                      "；".join(f"{t} {n}" for t, n in r.by_rule)])
    return "\ufeff" + buf.getvalue()
