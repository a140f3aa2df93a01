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

FORMATS = ("markdown", "json", "csv")
# the fields that hold what people said or typed; ids and KB texts are left alone
SENSITIVE_KEYS = frozenset({"text", "said", "notes", "matched"})


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


def stage_list(stages: list[dict]) -> str:
    return ", ".join(f"{x['index']}. {x['title']}" for x in stages) or "none"


def promise_line(p: dict) -> str:
    what = money(p["amount"])
    if p.get("fraction") is not None and p["fraction"] != 1.0 or (p.get("amount") is None and p.get("fraction")):
        what = f"{p['amount_text']}" + (f" ({money(p['amount'])} of {money(p['owed'])})" if p.get("amount") else "")
    elif p.get("fraction") == 1.0:
        what = "all" + (f" ({money(p['amount'])})" if p.get("amount") else "")
    when = f"by {p['due']} ({p['due_text']})" if p.get("due") else "no date said"
    return f"{what}, {when}: \u201c{p['text']}\u201d [{p['speaker']} {clock(p.get('at_s'))}]"


def to_markdown(bundle: dict, summary: dict) -> str:
    s, out = bundle["session"], []
    w = out.append
    w(f"# Call {s['id']}")
    w("")
    w(f"- Started: {summary['started_at']}  ")
    w(f"- Ended: {summary['ended_at'] or '—'} ({s['status']}), duration {clock(summary['duration_s'])}  ")
    w(f"- Playbook: {summary['playbook_title'] or s.get('playbook_id') or '—'}  ")
    w(f"- Model: {s.get('model') or '—'}, KB version {s.get('kb_version') or '—'}")
    w("")
    w("## Summary")
    w("")
    talk = ", ".join(f"{k} {clock(v)}" for k, v in summary["talk_time_s"].items() if v)
    w(f"- Talk time: {talk or '—'}")
    st = summary["stages"]
    w(f"- Stages covered: {stage_list(st['covered'])}")
    if st["missed"] is not None:
        w(f"- Stages missed: {stage_list(st['missed'])}")
    sev = summary["warnings"]["by_severity"]
    w(f"- Warnings: {summary['warnings']['total']} (critical {sev.get('critical', 0)}, "
      f"warning {sev.get('warning', 0)}, info {sev.get('info', 0)})")
    faqs = summary["faqs"]["shown"]
    w(f"- FAQs shown: {', '.join(f['question'] + (' (used)' if f['used'] else '') for f in faqs) or 'none'}")
    w(f"- Customer concerns: {'; '.join(summary['concerns']) or 'none'}")
    if summary["promises"]:
        w("- Promise to pay:")
        for p in summary["promises"]:
            w(f"  - {promise_line(p)}")
    else:
        w("- Promise to pay: none found")
    w("")
    w("## Transcript")
    w("")
    by_utt: dict[int, list[dict]] = {}
    for x in bundle["warnings"]:
        by_utt.setdefault(x["utterance_id"], []).append(x)
    for u in bundle["utterances"]:
        w(f"**[{clock(u['start_s'])}] {u['speaker']}:** {u['text']}  ")
        for x in by_utt.get(u["id"], []):
            ack = " (acknowledged)" if x["acknowledged"] else ""
            w(f"> \u26a0 **{x['severity']}** {x['title']} ({x['rule_id']}){ack}: "
              f"\u201c{x['said']}\u201d \u2192 {x['message']}  ")
    w("")
    w("## Notes")
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

        raise StoreError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    bundle = mask_tree(bundle, unmask)
    summary = mask_tree(summary, unmask) if summary is not None else None
    if fmt == "markdown":
        return to_markdown(bundle, summary)
    if fmt == "json":
        return to_json(bundle, summary)
    return to_csv(bundle, bom=bom)
