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
    p = sub.add_parser("ledger", help="联系台账：每个案件每天的接通次数和拨打次数")
    p.add_argument("--ledger", metavar="文件", help="台账文件（默认：数据文件夹里的 ledger.db）")
    p.add_argument("--limit", type=int, default=None, metavar="次数", help="每个案件每天允许的接通次数（默认 3）")
    lsub = p.add_subparsers(dest="ledger_command", metavar="操作", required=True)
    imp = lsub.add_parser("import", help="导入联系记录（CSV：案件号, 呼叫时间, 是否接通, 坐席）")
    imp.add_argument("csv", metavar="联系记录.csv", help="要导入的 CSV 文件（UTF-8）")
    imp.set_defaults(func=cmd_import)
    show = lsub.add_parser("show", help="查看一个案件某天的联系次数")
    show.add_argument("case_id", metavar="案件号", help="借据号或卡号（空格、全角数字会自动规整）")
    show.add_argument("--day", metavar="日期", help="日期，如 2026-11-23（默认：今天）")
    show.set_defaults(func=cmd_show)
    exp = lsub.add_parser("export", help="把台账输出为联系记录 CSV，可供同事导入")
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
