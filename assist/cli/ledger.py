"""``assist ledger``: the contact ledger (calls per case per day) from the command line.

    assist ledger import LOG.csv     add a dialer's (or a colleague's) contact log; bad rows named
    assist ledger show CASE [--day]  today's (or a day's) count for one case
    assist ledger export             this ledger as a contact log (CSV) a colleague can import
Messages for the user are Chinese (the desk's language).
"""
from __future__ import annotations

import sys
from datetime import date

from assist.cli.common import UsageError


def register(sub) -> None:
    p = sub.add_parser("ledger", help="contact ledger: connected calls and attempts per case per day")
    p.add_argument("--ledger", metavar="FILE", help="ledger file (default: ledger.db in the data folder)")
    p.add_argument("--limit", type=int, default=None, help="connected calls allowed per case per day (default 3)")
    lsub = p.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    imp = lsub.add_parser("import", help="import a contact log (CSV: 案件号, 呼叫时间, 是否接通, 坐席)")
    imp.add_argument("csv")
    imp.set_defaults(func=cmd_import)
    show = lsub.add_parser("show", help="one case's count for a day")
    show.add_argument("case_id")
    show.add_argument("--day", help="YYYY-MM-DD (default: today)")
    show.set_defaults(func=cmd_show)
    exp = lsub.add_parser("export", help="print the ledger as a contact log CSV")
    exp.set_defaults(func=cmd_export)


def _open(args):
    from assist.store.ledger import DEFAULT_DAILY_LIMIT, LedgerError, open_ledger

    try:
        return open_ledger(args.ledger, args.limit or DEFAULT_DAILY_LIMIT)
    except LedgerError as e:
        raise UsageError(str(e)) from None


def cmd_import(args) -> int:
    from assist.store.ledger import LedgerError

    with _open(args) as ledger:
        try:
            r = ledger.import_contact_log(args.csv)
        except LedgerError as e:
            raise UsageError(str(e)) from None
    print(f"已导入 {r.added} 条联系记录，{r.duplicates} 条此前已导入（不重复计数），{len(r.problems)} 行有问题被跳过。")
    for msg in r.problems:
        print(f"  {msg}", file=sys.stderr)
    return 1 if r.problems else 0


def cmd_show(args) -> int:
    from assist.store.ledger import LedgerError

    try:
        day = date.fromisoformat(args.day) if args.day else None
    except ValueError:
        raise UsageError(f"--day：日期“{args.day}”格式不对，应为 2026-11-23 这样的格式。") from None
    with _open(args) as ledger:
        try:
            print(ledger.status(args.case_id, day).message)
        except LedgerError as e:
            raise UsageError(str(e)) from None
    return 0


def cmd_export(args) -> int:
    with _open(args) as ledger:
        sys.stdout.write(ledger.export_csv())
    return 0
