"""``assist sessions``: list, show, annotate, export, delete and purge recorded calls.

Reads go through the store's WAL reader, so this works while a call is being
recorded in another process. Store problems (unknown or ambiguous id, an
unusable file) become UsageError: one message, exit 2. Runs in the main thread.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import datetime, timedelta

from assist.cli.common import UsageError, add_kb_option, open_kb

_DURATION = re.compile(r"^\s*(\d+)\s*([dhw])\s*$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1, "w": 7}
_STATUS_SHOWN = {"interrupted": "[yellow]interrupted[/]", "open": "[green]recording[/]"}


def register(sub) -> None:
    p = sub.add_parser("sessions", help="review recorded calls: list, show, notes, export, delete, purge")
    _add_db_option(p, default=None)
    ssub = p.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)

    a = ssub.add_parser("list", help="recorded calls, newest first")
    a.add_argument("--limit", type=int, default=20, help="how many to show (default 20)")
    a.add_argument("--offset", type=int, default=0, help="skip this many of the newest")
    _add_db_option(a)
    a.set_defaults(func=cmd_list)

    a = ssub.add_parser("show", help="transcript with warnings inline, and the summary")
    a.add_argument("id", metavar="ID", help="session id or a unique prefix of it")
    a.add_argument("--unmask", action="store_true", help="show identity numbers as stored")
    _add_db_option(a)
    add_kb_option(a)
    a.set_defaults(func=cmd_show)

    a = ssub.add_parser("notes", help="print the session's notes, or set them")
    a.add_argument("id", metavar="ID")
    a.add_argument("text", nargs="?", metavar="TEXT", help="new notes ('-' reads them from stdin)")
    _add_db_option(a)
    a.set_defaults(func=cmd_notes)

    a = ssub.add_parser("export", help="write the session as markdown, json or csv")
    a.add_argument("id", metavar="ID")
    a.add_argument("--format", "-f", choices=("markdown", "json", "csv"), default="markdown")
    a.add_argument("--unmask", action="store_true", help="do not mask ID-card, phone and card numbers")
    a.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    _add_db_option(a)
    add_kb_option(a)
    a.set_defaults(func=cmd_export)

    a = ssub.add_parser("delete", help="delete one session and everything recorded for it")
    a.add_argument("id", metavar="ID")
    a.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    _add_db_option(a)
    a.set_defaults(func=cmd_delete)

    a = ssub.add_parser("purge", help="delete sessions older than a retention period")
    a.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 90d, 12w or 48h")
    _add_db_option(a)
    a.set_defaults(func=cmd_purge)


def _add_db_option(p, default=argparse.SUPPRESS) -> None:
    # on the group and on each action, so `sessions --db X list` and `sessions list --db X` both work
    p.add_argument("--db", metavar="PATH", default=default,
                   help="session database (default: ASSIST_DATA_DIR or the user's sessions.db)")
    p.add_argument("--demo", action="store_true", default=default if default is argparse.SUPPRESS else False,
                   help="the demo store (demo-sessions.db): calls made by assist demo")


def parse_age(text: str) -> timedelta:
    m = _DURATION.match(text or "")
    if not m:
        raise UsageError(f"--older-than {text!r}: give a number and a unit, e.g. 90d (days), 12w (weeks), 48h (hours)")
    n, unit = int(m.group(1)), m.group(2).lower()
    return timedelta(hours=n) if unit == "h" else timedelta(days=n * _UNIT_DAYS[unit])


def _open(args):
    from assist.store import StoreError, open_store

    try:
        from assist.store import demo_db_path

        path = getattr(args, "db", None) or (demo_db_path() if getattr(args, "demo", False) else None)
        store = open_store(path)
    except StoreError as e:
        raise UsageError(str(e)) from None
    if store.open_warning:
        print(f"assist：注意：{store.open_warning}", file=sys.stderr)
    return store


def _run(args, fn):
    """Open the store, run ``fn(store)``, turn StoreError into UsageError, always close."""
    from assist.store import StoreError

    store = _open(args)
    try:
        return fn(store)
    except StoreError as e:
        raise UsageError(str(e)) from None
    finally:
        store.close()


def _kb(args):
    return open_kb(args) if getattr(args, "kb", None) else None


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "—"


def _console():
    from rich.console import Console

    # piped output (less, grep, a file) gets full lines rather than rich's 80-column default
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


# -- commands -----------------------------------------------------------------------------------

def cmd_list(args) -> int:
    from rich.markup import escape
    from rich.table import Table

    from assist.store.export import clock

    if args.limit < 1 or args.offset < 0:
        raise UsageError("--limit must be at least 1 and --offset at least 0")

    def run(store):
        rows = store.list_sessions(limit=args.limit, offset=args.offset)
        total = store.count_sessions()
        console = _console()
        if not rows:
            console.print(f"no sessions in {store.path}" if total == 0 else f"no sessions past {args.offset}")
            return 0
        table = Table(box=None, pad_edge=False)
        id_width = max(len(r["id"]) for r in rows)
        table.add_column("ID", no_wrap=True, min_width=id_width)  # never cut: it is what the user types next
        for col in ("Started", "Length", "Status", "Playbook", "Said", "Warnings", "Notes"):
            table.add_column(col, overflow="fold")
        for r in rows:
            length = clock(r["duration_s"]) if r["duration_s"] is not None else "—"
            warn = f"{r['n_warnings']}" + (f" ({r['n_critical']} critical)" if r["n_critical"] else "")
            status = _STATUS_SHOWN.get(r["status"], escape(r["status"]))
            table.add_row(escape(r["id"]), _when(r["started_at"]), length, status, escape(r["playbook_id"] or "—"),
                          str(r["n_utterances"]), warn, "yes" if r["has_notes"] else "")
        console.print(table)
        console.print(f"{args.offset + 1}-{args.offset + len(rows)} of {total} sessions in {store.path}")
        return 0
    return _run(args, run)


def cmd_show(args) -> int:
    kb = _kb(args)

    def run(store):
        from assist.store.export import mask_tree

        bundle = mask_tree(store.bundle(args.id), args.unmask)
        summary = mask_tree(store.summary(bundle["session"]["id"], kb=kb), args.unmask)
        render_session(_console(), bundle, summary)
        return 0
    return _run(args, run)


def render_session(console, bundle: dict, summary: dict) -> None:
    """Print a session readably: header, transcript with warnings inline, summary, notes."""
    from rich.rule import Rule
    from rich.text import Text

    from assist.store.export import clock, promise_line, stage_list

    s = bundle["session"]
    head = Text()
    head.append(f"Call {s['id']}", style="bold")
    head.append(f"   {_when(s['started_at'])}, {clock(summary['duration_s'])}, {s['status']}")
    head.append(f"   playbook {summary['playbook_title'] or s.get('playbook_id') or '—'}")
    console.print(head)
    console.print(Rule("Transcript"))
    colours = {"agent": "cyan", "customer": "magenta", "unknown": "white"}
    by_utt: dict[int, list[dict]] = {}
    for w in bundle["warnings"]:
        by_utt.setdefault(w["utterance_id"], []).append(w)
    stage_at = {st["utterance_id"]: st for st in bundle["stages"]}
    for u in bundle["utterances"]:
        if u["id"] in stage_at:
            st = stage_at[u["id"]]
            console.print(Text(f"  — stage {st['stage_index']}: {st['title']} —", style="dim"))
        line = Text(f"[{clock(u['start_s'])}] ", style="dim")
        line.append(f"{u['speaker']}: ", style=f"bold {colours.get(u['speaker'], 'white')}")
        line.append(u["text"])
        console.print(line)
        for w in by_utt.get(u["id"], []):
            style = {"critical": "bold red", "warning": "yellow"}.get(w["severity"], "blue")
            warn = Text(f"    ⚠ {w['severity']} {w['title']} ({w['rule_id']})", style=style)
            warn.append(f"  “{w['said']}” → {w['message']}")
            if w["acknowledged"]:
                warn.append("  [acknowledged]", style="dim")
            console.print(warn)
    for e in bundle.get("call_events", []):
        where = f" {clock(e['start_s'])}-{clock(e['end_s'])}" if e["start_s"] is not None else ""
        console.print(Text(f"  ! {e['kind'].replace('_', ' ')} ({e['channel'] or 'all'}){where}: {e['message']}",
                           style="yellow"))

    console.print(Rule("Summary"))
    out = []
    talk = ", ".join(f"{k} {clock(v)}" for k, v in summary["talk_time_s"].items() if v)
    out.append(("Talk time", talk or "—"))
    st = summary["stages"]
    out.append(("Stages covered", stage_list(st["covered"])))
    missed = stage_list(st["missed"]) if st["missed"] is not None else "unknown (playbook not in the KB)"
    out.append(("Stages missed", missed))
    sev = summary["warnings"]["by_severity"]
    out.append(("Warnings", f"{summary['warnings']['total']}: critical {sev.get('critical', 0)}, "
                            f"warning {sev.get('warning', 0)}, info {sev.get('info', 0)}"))
    out.append(("FAQs shown", ", ".join(f["question"] + (" (used)" if f["used"] else "")
                                        for f in summary["faqs"]["shown"]) or "none"))
    out.append(("Concerns", "; ".join(summary["concerns"]) or "none"))
    promises = summary["promises"]
    out.append(("Promise to pay", promise_line(promises[0]) if promises else "none found"))
    for p in promises[1:]:
        out.append(("", promise_line(p)))
    out.append(("Notes", summary["notes"] or "—"))
    width = max(len(k) for k, _ in out)
    for k, v in out:
        line = Text(f"{k:<{width}}  ", style="bold")
        line.append(v)
        console.print(line)


def cmd_notes(args) -> int:
    def run(store):
        sid = store.resolve_id(args.id)
        if args.text is None:
            notes = store.get_notes(sid)
            print(notes if notes else f"(no notes for {sid})")
            return 0
        text = sys.stdin.read().strip() if args.text == "-" else args.text
        store.set_notes(sid, text)
        print(f"notes saved for {sid}")
        return 0
    return _run(args, run)


def cmd_export(args) -> int:
    kb = _kb(args)

    def run(store):
        text = store.export(args.id, args.format, unmask=args.unmask, kb=kb)
        if not args.output:
            sys.stdout.write(text)
            return 0
        from assist.store.export import write_private

        try:
            write_private(args.output, text)  # it holds a transcript: owner-only, also over an existing file
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from None
        print(f"wrote {args.output} ({args.format})", file=sys.stderr)
        return 0
    return _run(args, run)


def cmd_delete(args) -> int:
    def run(store):
        s = store.get_session(args.id)
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(f"not deleting session {s['id']} without confirmation: add --yes")
            answer = input(f"Delete session {s['id']} from {_when(s['started_at'])} and its transcript? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("not deleted")
                return 1
        store.delete(s["id"])
        print(f"deleted session {s['id']}")
        return 0
    return _run(args, run)


def cmd_purge(args) -> int:
    age = parse_age(args.older_than)

    def run(store):
        n = store.purge(age)
        print(f"purged {n} session(s) older than {args.older_than} from {store.path}")
        return 0
    return _run(args, run)
