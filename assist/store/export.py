"""Exports of one session as Markdown (to read or paste), JSON (complete) or CSV (transcript rows).

Identity numbers are masked in every export unless ``unmask`` is asked for;
that reveals them only if they were stored unmasked (storage masking off).

CSV is made to open safely where agents open it: a UTF-8 BOM by default (Excel on
a Chinese Windows desktop otherwise guesses GBK and shows mojibake; ``bom=False``
leaves it out), and every cell a spreadsheet would evaluate as a formula (one
starting with = + - @, a tab or a carriage return: OWASP's CSV-injection rule) is
prefixed with an apostrophe. ``write_private`` writes an export file owner-only
(0600) whether or not it existed.
Pure functions over ``SessionStore.bundle`` and ``summary`` (and one file write); any thread.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import os
from datetime import datetime
from pathlib import Path

from assist.store.masking import mask_text
from assist.printable import printable_tree

FORMATS = ("markdown", "json", "csv")
# the fields that hold what people said or typed; ids and KB texts are left alone
SENSITIVE_KEYS = frozenset({"text", "said", "notes", "matched", "evidence", "amount_text", "due_text"})


def clock(seconds: float | None) -> str:
    """Call time as m:ss (or h:mm:ss); '--:--' when unknown."""
    if seconds is None:
        return "--:--"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def money(amount: float | None) -> str:
    if amount is None:
        return "?"
    return f"{amount:,.0f} 元" if amount == int(amount) else f"{amount:,.2f} 元"


def mask_tree(value, unmask: bool = False):
    """A copy of a bundle/summary with every sensitive string masked (unless ``unmask``)."""
    if unmask:
        return value
    if isinstance(value, dict):
        return {k: (mask_text(v) if k in SENSITIVE_KEYS and isinstance(v, str) else mask_tree(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_tree(v) for v in value]
    return copy.copy(value)


SPEAKERS_ZH = {"agent": "坐席", "customer": "客户", "unknown": "未知"}
SEVERITIES_ZH = {"critical": "严重", "warning": "警告", "info": "提示"}
STATUS_ZH = {"ended": "已结束", "interrupted": "中断", "open": "录制中", "recovered": "已恢复"}


def stage_list(stages: list[dict]) -> str:
    return "，".join(f"{x['index']}. {x['title']}" for x in stages) or "无"


def promise_line(p: dict) -> str:
    what = money(p["amount"])
    if p.get("fraction") is not None and p["fraction"] != 1.0 or (p.get("amount") is None and p.get("fraction")):
        what = f"{p['amount_text']}" + (f"（{money(p['owed'])}中的 {money(p['amount'])}）" if p.get("amount") else "")
    elif p.get("fraction") == 1.0:
        what = "全部" + (f"（{money(p['amount'])}）" if p.get("amount") else "")
    when = f"{p['due']} 前（{p['due_text']}）" if p.get("due") else "没有说日期"
    who = SPEAKERS_ZH.get(p["speaker"], p["speaker"])
    return f"{what}，{when}：\u201c{p['text']}\u201d [{who} {clock(p.get('at_s'))}]"


def to_markdown(bundle: dict, summary: dict) -> str:
    s, out = bundle["session"], list[str]()
    w = out.append
    w(f"# 通话记录 {s['id']}" + ("（演示）" if s.get("kind") == "demo" else ""))
    w("")
    w(f"- 开始：{summary['started_at']}  ")
    w(f"- 结束：{summary['ended_at'] or '—'}（{STATUS_ZH.get(s['status'], s['status'])}），时长 {clock(summary['duration_s'])}  ")
    w(f"- 话术：{summary['playbook_title'] or s.get('playbook_id') or '—'}  ")
    w(f"- 识别模型：{s.get('model') or '—'}，知识库版本 {s.get('kb_version') or '—'}")
    w("")
    w("## 摘要")
    w("")
    talk = "，".join(f"{SPEAKERS_ZH.get(k, k)} {clock(v)}" for k, v in summary["talk_time_s"].items() if v)
    w(f"- 说话时长：{talk or '—'}")
    st = summary["stages"]
    w(f"- 已覆盖阶段：{stage_list(st['covered'])}")
    if st["missed"] is not None:
        w(f"- 遗漏阶段：{stage_list(st['missed'])}")
    sev = summary["warnings"]["by_severity"]
    w(f"- 警告：{summary['warnings']['total']} 条（严重 {sev.get('critical', 0)}，"
      f"警告 {sev.get('warning', 0)}，提示 {sev.get('info', 0)}）")
    faqs = summary["faqs"]["shown"]
    w(f"- 显示的问答：{'，'.join(f['question'] + ('（已使用）' if f['used'] else '') for f in faqs) or '无'}")
    w(f"- 客户关切：{'；'.join(summary['concerns']) or '无'}")
    if summary["promises"]:
        w("- 还款承诺：")
        for p in summary["promises"]:
            w(f"  - {promise_line(p)}")
    else:
        w("- 还款承诺：未发现")
    w("")
    w("## 文字记录")
    w("")
    if s.get("transcript_removed_at"):
        w("完整记录已按保留策略删除，只保留上面的摘要。")
        w("")
    by_utt: dict[int, list[dict]] = {}
    for x in bundle["warnings"]:
        by_utt.setdefault(x["utterance_id"], []).append(x)
    for u in bundle["utterances"]:
        w(f"**[{clock(u['start_s'])}] {SPEAKERS_ZH.get(u['speaker'], u['speaker'])}：** {u['text']}  ")
        for x in by_utt.get(u["id"], []):
            ack = "（已确认）" if x["acknowledged"] else ""
            w(f"> \u26a0 **{SEVERITIES_ZH.get(x['severity'], x['severity'])}** {x['title']}{ack}："
              f"\u201c{x['said']}\u201d \u2192 {x['message']}  ")
    w("")
    w("## 备注")
    w("")
    w(s.get("notes") or "—")
    return "\n".join(out) + "\n"


def to_json(bundle: dict, summary: dict) -> str:
    doc = {"format": "assist-session", "version": 1,
           "exported_at": datetime.now().isoformat(timespec="seconds"), **bundle, "summary": summary}
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise_cell(value):
    """A cell a spreadsheet cannot run: text starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(bundle: dict, bom: bool = True) -> str:
    warns: dict[int, list[str]] = {}
    for x in bundle["warnings"]:
        warns.setdefault(x["utterance_id"], []).append(f"{x['rule_id']}:{x['severity']}")
    faqs: dict[int, list[str]] = {}
    for h in bundle["faq_hits"]:
        if h["shown"]:
            faqs.setdefault(h["utterance_id"], []).append(h["faq_id"])
    buf = io.StringIO()
    if bom:
        buf.write(BOM)
    out = csv.writer(buf)
    out.writerow(["session_id", "utterance_id", "start_s", "end_s", "speaker", "text", "confidence",
                  "warnings", "faqs_shown"])
    for u in bundle["utterances"]:
        out.writerow([neutralise_cell(c) for c in (
            u["session_id"], u["id"], u["start_s"], u["end_s"], u["speaker"], u["text"],
            u["confidence"], ";".join(warns.get(u["id"], [])), ";".join(faqs.get(u["id"], [])))])
    return buf.getvalue()


def write_private(path: str | Path, text: str) -> None:
    """Write an export owner-only (0600), also when the file already existed with a looser mode.

    The mode is set on the open descriptor before any byte is written, so the
    transcript is never readable by others, not even for a moment.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        else:  # Windows: no POSIX modes; the user's profile folder is private already
            os.chmod(path, 0o600)
    except OSError:
        os.close(fd)
        raise
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def export_session(bundle: dict, summary: dict | None, fmt: str, unmask: bool = False, bom: bool = True) -> str:
    if fmt not in FORMATS:
        from assist.store.errors import StoreError

        raise StoreError(f"不支持的导出格式 {fmt!r}；可用：{'、'.join(FORMATS)}")
    bundle = mask_tree(bundle, unmask)
    summary = mask_tree(summary, unmask) if summary is not None else {}
    if fmt == "markdown":  # opened in editors and previewers: no escape or bidi codes
        return to_markdown(printable_tree(bundle), printable_tree(summary or {}))
    if fmt == "json":
        return to_json(bundle, summary or {})
    return to_csv(bundle, bom=bom)
