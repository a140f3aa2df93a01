"""``assist sessions``: list, show, annotate, export, delete, purge, retention, recover, rekey, keys, audit.

Reads go through the store's WAL reader, so this works while a call is being
recorded in another process. Store problems (unknown or ambiguous id, an
unusable file) become UsageError: one Chinese message, exit 2. Anything that
removes records (delete, purge, retention, rekey) first shows what it will do
and asks, unless ``--yes``; with no terminal to ask on, it refuses and says so.
Exports, deletes, purges, recoveries, rekeys and key exports are written to the
store's append-only audit table (``assist sessions audit``). Demo calls live in
the separate demo store (``--demo``). Runs in the main thread.
"""
from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

from assist.cli.common import UsageError, add_kb_option, open_kb
from assist.printable import printable, printable_tree

_DURATION = re.compile(r"^\s*(\d+)\s*([dhw])\s*$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1, "w": 7}
MAX_AGE_DAYS = 36500  # a hundred years: a longer age is a typo, and would overflow date arithmetic
_STATUS_SHOWN = {"interrupted": "[yellow]中断[/]", "open": "[green]录制中[/]", "ended": "已结束",
                 "recovered": "[yellow]已恢复[/]"}


def register(sub) -> None:
    p = sub.add_parser("sessions", help="通话记录：列出、查看、备注、导出、删除、清理、恢复、换密钥、审计")
    _add_db_option(p, default=None)
    ssub = p.add_subparsers(dest="sessions_command", metavar="操作", required=True)

    a = ssub.add_parser("list", help="通话记录，最新的在前")
    a.add_argument("--limit", type=int, default=20, metavar="条数", help="显示多少条（默认 20）")
    a.add_argument("--offset", type=int, default=0, metavar="条数", help="跳过最新的若干条")
    _add_db_option(a)
    a.set_defaults(func=cmd_list)

    a = ssub.add_parser("show", help="带警告的通话文字记录和摘要")
    a.add_argument("id", metavar="会话编号", help="会话编号或其唯一前缀")
    a.add_argument("--unmask", action="store_true", help="按原样显示证件号、手机号")
    _add_db_option(a)
    add_kb_option(a)
    a.set_defaults(func=cmd_show)

    a = ssub.add_parser("notes", help="查看或修改会话备注")
    a.add_argument("id", metavar="会话编号", help="会话编号或其唯一前缀")
    a.add_argument("text", nargs="?", metavar="备注", help="新的备注（'-' 表示从标准输入读取）")
    _add_db_option(a)
    a.set_defaults(func=cmd_notes)

    a = ssub.add_parser("export", help="导出为 markdown、json 或 csv")
    a.add_argument("id", metavar="会话编号", help="会话编号或其唯一前缀")
    a.add_argument("--format", "-f", choices=("markdown", "json", "csv"), default="markdown",
                   help="导出格式：markdown（默认，可读的报告）、json（完整数据）或 csv（表格）")
    a.add_argument("--unmask", action="store_true", help="不遮盖证件号、手机号、卡号")
    a.add_argument("--no-bom", action="store_true", help="CSV 不加 UTF-8 BOM（默认加，Excel 才能正确显示中文）")
    a.add_argument("-o", "--output", metavar="文件", help="写入文件（仅本人可读）而不是标准输出")
    _add_db_option(a)
    add_kb_option(a)
    a.set_defaults(func=cmd_export)

    a = ssub.add_parser("delete", help="删除一个会话及其全部记录")
    a.add_argument("id", metavar="会话编号", help="会话编号或其唯一前缀")
    _add_yes_option(a)
    _add_db_option(a)
    a.set_defaults(func=cmd_delete)

    a = ssub.add_parser("purge", help="删除早于某个时间的会话")
    a.add_argument("--older-than", required=True, metavar="时长", help="如 90d（天）、12w（周）、48h（小时）")
    a.add_argument("--dry-run", action="store_true", help="只列出会删除什么，不删除")
    _add_yes_option(a)
    _add_db_option(a)
    a.set_defaults(func=cmd_purge)

    a = ssub.add_parser("retention", help="保留策略：列出到期的记录（默认只列出），--apply 执行")
    a.add_argument("--apply", action="store_true", help="现在执行保留策略")
    _add_yes_option(a)
    _add_db_option(a)
    add_kb_option(a)
    a.set_defaults(func=cmd_retention)

    a = ssub.add_parser("recover", help="从损坏后被移开的旧记录库中救回还能读出的记录")
    a.add_argument("file", nargs="?", metavar="文件", help="损坏的文件（默认：记录库旁最新的 .corrupt- 文件）")
    _add_db_option(a)
    a.set_defaults(func=cmd_recover)

    a = ssub.add_parser("rekey", help="换一把新的加密密钥，重新加密记录库")
    _add_yes_option(a)
    _add_db_option(a)
    a.set_defaults(func=cmd_rekey)

    a = ssub.add_parser("key", help="加密密钥：status 查看，list 列出各密钥及需要它的文件，export 备份给团队主管，"
                                    "import 导入备份，retire 停用不再需要的旧密钥")
    a.add_argument("key_action", choices=("status", "list", "export", "import", "retire"),
                   metavar="status|list|export|import|retire", help="要做的事（见上）")
    a.add_argument("file", nargs="?", metavar="文件", help="export 写入的文件 / import 读取的文件")
    a.add_argument("--yes", "-y", action="store_true", help="retire 时不再询问")
    _add_db_option(a)
    a.set_defaults(func=cmd_key)

    a = ssub.add_parser("audit", help="审计记录：谁在何时导出、删除、清理、恢复、换密钥")
    a.add_argument("--limit", type=int, default=50, metavar="条数", help="显示多少条（默认 50）")
    _add_db_option(a)
    a.set_defaults(func=cmd_audit)


def _add_yes_option(p) -> None:
    p.add_argument("--yes", "-y", action="store_true", help="不再询问")


def _add_db_option(p, default=argparse.SUPPRESS) -> None:
    # on the group and on each action, so `sessions --db X list` and `sessions list --db X` both work
    p.add_argument("--db", metavar="文件", default=default,
                   help="通话记录库文件（默认：ASSIST_DATA_DIR 或本账户的 sessions.db）")
    p.add_argument("--demo", action="store_true", default=default if default is argparse.SUPPRESS else False,
                   help="演示记录库（demo-sessions.db）：assist demo 的演示通话")


def parse_age(text: str) -> timedelta:
    m = _DURATION.match(text or "")
    if not m:
        raise UsageError(f"--older-than {text!r}：请写数字加单位，如 90d（天）、12w（周）、48h（小时）")
    n, unit = int(m.group(1)), m.group(2).lower()
    days = n / 24 if unit == "h" else n * _UNIT_DAYS[unit]
    if days > MAX_AGE_DAYS:
        raise UsageError(f"--older-than {text!r} 太长了（超过 {MAX_AGE_DAYS} 天，即一百年）："
                         f"没有这么旧的记录。请写一个合理的时间，如 730d。")
    if n == 0:
        raise UsageError("--older-than 0 会删除全部记录；如确实要这样，请写一个很短的时间（如 1h）并确认。")
    return timedelta(hours=n) if unit == "h" else timedelta(days=n * _UNIT_DAYS[unit])


def _store_path(args) -> Path | None:
    from assist.store import demo_db_path

    db = getattr(args, "db", None)
    return Path(db) if db else (demo_db_path() if getattr(args, "demo", False) else None)


def _open(args):
    from assist.store import StoreError, open_store

    try:
        store = open_store(_store_path(args))
    except StoreError as e:  # message and fix on their own lines
        raise UsageError(e.message, e.fix) from None
    if store.open_warning:
        print(f"assist：注意：{store.open_warning}", file=sys.stderr)
    return store


def _run(args, fn):
    """Open the store, run ``fn(store)``, turn StoreError into UsageError, always close."""
    from assist.store import StoreError

    store = _open(args)
    try:
        return fn(store)
    except _Declined as e:  # the user said no: nothing was done, say so, exit 1
        print(e)
        return 1
    except StoreError as e:
        raise UsageError(e.message, e.fix) from None
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


class _Declined(Exception):
    """The user answered no to ``confirm_or_stop``; its text says what was not done."""


def confirm_or_stop(question: str, yes: bool, refuse: str, declined: str) -> None:
    """Go on only if ``confirm`` says so; otherwise stop the command (``_run`` prints ``declined``, exit 1)."""
    if not confirm(question, yes, refuse):
        raise _Declined(declined)


def confirm(question: str, yes: bool, refuse: str) -> bool:
    """True to go ahead: ``--yes``, or the user typed y. No terminal to ask on: UsageError ``refuse``."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(refuse)
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes", "是")


def _print_sessions(rows: list[dict], limit: int = 20) -> None:
    for r in rows[:limit]:
        print(f"  {r['id']}  {_when(r['started_at'])}  {r.get('n_utterances', 0)} 句"
              + ("  （演示）" if r.get("kind") == "demo" else ""))
    if len(rows) > limit:
        print(f"  …… 另有 {len(rows) - limit} 个")


# -- commands -----------------------------------------------------------------------------------

def cmd_list(args) -> int:
    from rich.markup import escape
    from rich.table import Table

    from assist.store.export import clock

    if args.limit < 1 or args.offset < 0:
        raise UsageError("--limit 至少为 1，--offset 不能为负数")

    def run(store):
        rows = store.list_sessions(limit=args.limit, offset=args.offset)
        total = store.count_sessions()
        console = _console()
        if not rows:
            console.print(f"{store.path} 中没有通话记录" if total == 0 else f"第 {args.offset} 个之后没有更多记录")
            return 0
        table = Table(box=None, pad_edge=False)
        id_width = max(len(r["id"]) for r in rows)
        table.add_column("编号", no_wrap=True, min_width=id_width)  # never cut: it is what the user types next
        for col in ("开始时间", "时长", "状态", "话术", "句数", "警告", "备注"):
            table.add_column(col, overflow="fold")
        for r in rows:
            length = clock(r["duration_s"]) if r["duration_s"] is not None else "—"
            warn = f"{r['n_warnings']}" + (f"（严重 {r['n_critical']}）" if r["n_critical"] else "")
            status = _STATUS_SHOWN.get(r["status"], escape(r["status"]))
            if r.get("kind") == "demo":
                status += "（演示）"
            table.add_row(escape(r["id"]), _when(r["started_at"]), length, status, escape(r["playbook_id"] or "—"),
                          str(r["n_utterances"]), warn, "有" if r["has_notes"] else "")
        console.print(table)
        console.print(f"第 {args.offset + 1}-{args.offset + len(rows)} 个，共 {total} 个会话（{store.path}）")
        return 0
    return _run(args, run)


def cmd_show(args) -> int:
    kb = _kb(args)

    def run(store):
        from assist.store.export import mask_tree

        bundle = mask_tree(store.bundle(args.id), args.unmask)
        summary = mask_tree(store.summary(bundle["session"]["id"], kb=kb), args.unmask)
        render_session(_console(), printable_tree(bundle), printable_tree(summary))  # no escape codes to the terminal
        return 0
    return _run(args, run)


def cmd_notes(args) -> int:
    def run(store):
        sid = store.resolve_id(args.id)
        if args.text is None:
            notes = store.get_notes(sid)
            print(printable(notes) if notes else f"（会话 {sid} 没有备注）")  # no escape codes to the terminal
            return 0
        text = sys.stdin.read().strip() if args.text == "-" else args.text
        store.set_notes(sid, text)
        print(f"已保存会话 {sid} 的备注")
        return 0
    return _run(args, run)


def cmd_export(args) -> int:
    kb = _kb(args)

    def run(store):
        from assist.store.export import write_private

        text = store.export(args.id, args.format, unmask=args.unmask, kb=kb, bom=not args.no_bom)
        if not args.output:
            sys.stdout.write(text)
            return 0
        try:
            write_private(args.output, text)  # it holds a transcript: owner-only, also over an existing file
        except OSError as e:
            raise UsageError(f"无法写入 {args.output}：{e.strerror or e}") from None
        print(f"已导出到 {args.output}（{args.format}，仅本人可读）", file=sys.stderr)
        return 0
    return _run(args, run)


def cmd_delete(args) -> int:
    def run(store):
        s = store.get_session(args.id)
        n = len(store.utterances(s["id"]))
        print(f"将删除会话 {s['id']}（{_when(s['started_at'])}，{n} 句文字记录、警告、备注和摘要）。")
        confirm_or_stop("确定删除吗？", args.yes,
                        f"没有删除会话 {s['id']}：无法在这里确认（不是交互终端）。确实要删除请加 --yes。", "未删除")
        store.delete(s["id"])
        print(f"已删除会话 {s['id']}（已记入审计记录）")
        return 0
    return _run(args, run)


def cmd_purge(args) -> int:
    age = parse_age(args.older_than)

    def run(store):
        rows = store.sessions_older_than(age)
        if not rows:
            print(f"{store.path} 中没有早于 {args.older_than} 的会话，没有要删除的。")
            return 0
        print(f"以下 {len(rows)} 个会话早于 {args.older_than}，将连同文字记录一起删除：")
        _print_sessions(rows)
        if args.dry_run:
            print("（试运行：没有删除任何记录）")
            return 0
        confirm_or_stop(f"确定删除这 {len(rows)} 个会话吗？", args.yes,
                        "没有删除任何记录：无法在这里确认（不是交互终端）。确实要删除请加 --yes，"
                        "想先看看会删除什么请加 --dry-run。", "未删除")
        n = store.purge(age)
        print(f"已删除 {n} 个早于 {args.older_than} 的会话（{store.path}，已记入审计记录）")
        return 0
    return _run(args, run)


def cmd_retention(args) -> int:
    from assist.store import retention
    from assist.store.errors import StoreError

    try:
        policy = retention.load_policy()
    except StoreError as e:
        raise UsageError(str(e)) from None
    kb = _kb(args)

    def run(store):
        print(f"保留策略：{policy.describe()}")
        todo = retention.plan(store, policy)
        if todo.empty:
            print("现在没有到期的记录。")
            return 0
        if todo.strip:
            print(f"{len(todo.strip)} 个会话的完整记录到期，将只保留摘要和还款承诺：")
            _print_sessions(todo.strip)
        if todo.delete:
            print(f"{len(todo.delete)} 个会话已过摘要保留期，将整条删除：")
            _print_sessions(todo.delete)
        if not args.apply:
            print("（只是列出；加 --apply 执行。assist 启动时和每天也会自动执行。）")
            return 0
        confirm_or_stop("现在执行保留策略吗？", args.yes,
                        "没有执行：无法在这里确认（不是交互终端）。确实要执行请加 --yes。", "未执行")
        retention.apply(store, policy, kb=kb)
        print("已执行保留策略（已记入审计记录）")
        return 0
    return _run(args, run)


def cmd_recover(args) -> int:
    from assist.store.keys import load_keys
    from assist.store.recover import salvage

    def run(store):
        source = Path(args.file) if args.file else _newest_damaged(store.path)
        if source is None:
            print(f"{store.path} 旁边没有损坏后被移开的记录库（*.corrupt-*），没有需要恢复的。")
            return 0
        if not source.is_file():
            raise UsageError(f"找不到文件 {source}")
        if source.resolve() == store.path.resolve():
            raise UsageError("不能从正在使用的记录库恢复到它自己；请指定损坏后被移开的文件。")
        print(f"正在从 {source} 恢复到 {store.path} ……")
        report = salvage(source, store, load_keys().keys)
        names = {"sessions": "会话", "utterances": "文字记录", "faq_hits": "问答", "suggestions": "提示话术",
                 "warnings": "警告", "stages": "阶段", "call_events": "设备事件", "summaries": "摘要",
                 "audit": "审计记录", "party_settings": "对方身份设定"}
        for table, saved in report.saved.items():
            lost = report.lost.get(table, 0)
            if saved or lost:
                print(f"  {names.get(table, table)}：救回 {saved} 条" + (f"，{lost} 条无法读出" if lost else ""))
        if report.unreadable_tables:
            print("  完全无法读取：" + "、".join(names.get(t, t) for t in report.unreadable_tables))
        if report.placeholders:
            print(f"  有 {report.placeholders} 个会话的基本信息已损坏，救回的内容归在状态为“已恢复”的会话下")
        store.audit("recover", f"从 {source} 救回 {report.total_saved} 条，{report.total_lost} 条无法读出",
                    report.total_saved)
        print(f"完成：共救回 {report.total_saved} 条，{report.total_lost} 条无法读出。损坏的文件原样保留，"
              f"确认无误后可自行删除。")
        return 0 if report.total_lost == 0 and not report.unreadable_tables else 1
    return _run(args, run)


def _newest_damaged(path: Path) -> Path | None:
    found = [p for p in path.parent.glob(f"{path.name}.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def cmd_rekey(args) -> int:
    from assist.store.opening import rekey

    def run(store):
        print(f"将为 {store.path} 生成新密钥并重新加密。旧密钥会保留，用于打开还没换过的记录库（如演示库）；"
              f"之后可用 assist sessions key retire 停用。")
        confirm_or_stop("现在换密钥吗？", args.yes, "没有换密钥：无法在这里确认（不是交互终端）。确实要换请加 --yes。",
                        "未换密钥")
        chain = rekey(store)
        store.audit("rekey", f"{store.path} 已用新密钥重新加密（密钥保存在{chain.location}）", 0)
        print(f"已换密钥并重新加密 {store.path}（已记入审计记录）。请再运行 assist sessions key export 文件 "
              f"把新密钥交给团队主管保管。")
        return 0
    return _run(args, run)


def cmd_key(args) -> int:
    from assist.store.errors import StoreError
    from assist.store.export import write_private
    from assist.store.keys import escrow_document, load_keys, read_escrow, save_keys

    try:
        if args.key_action == "status":
            chain = load_keys()
            print(f"密钥保存在：{chain.location}；共 {len(chain.keys)} 把（最新的用于加密）。")
            if chain.warning:
                print(f"注意：{chain.warning}")
            return 0
        if args.key_action == "list":
            return _key_list(args)
        if args.key_action == "retire":
            return _key_retire(args)
        if not args.file:
            raise UsageError(f"assist sessions key {args.key_action} 需要一个文件名")
        if args.key_action == "export":
            chain = load_keys()
            if not chain.keys:
                raise UsageError("还没有密钥（还没有创建过记录库），没有可导出的。")

            def run(store):
                write_private(args.file, escrow_document(chain))
                store.audit("key export", f"加密密钥备份已导出到 {args.file}", len(chain.keys))
                print(f"已把 {len(chain.keys)} 把密钥写入 {args.file}（仅本人可读）。请交给团队主管离线保管，"
                      f"然后从本机删除该文件：拿到它的人可以解密记录库。")
                return 0
            return _run(args, run)
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"无法读取密钥备份 {args.file}：{e}") from None
        keys = read_escrow(text, args.file)
        chain = load_keys()
        added = [k for k in keys if k not in chain.keys]
        chain.keys.extend(added)  # imported keys open old stores; the newest own key keeps encrypting
        if not chain.keys[:1]:
            chain.keys = keys
        save_keys(chain)
        print(f"已导入 {len(added)} 把新密钥（共 {len(chain.keys)} 把，保存在{chain.location}）。"
              f"如有被移开的记录库，现在可运行 assist sessions recover。")
        return 0
    except StoreError as e:
        raise UsageError(str(e)) from None


def _keyed_files(args):
    from assist.store import default_db_path
    from assist.store.key_files import default_store_paths, find_files
    from assist.store.keys import load_keys

    chain = load_keys()
    paths = default_store_paths(_store_path(args) or default_db_path())
    return chain, paths, find_files(paths, chain.keys)


def _key_list(args) -> int:
    """``key list``: every key (by fingerprint, never the key), and the files that need it."""
    from assist.store.key_files import fingerprint, retirable

    chain, _paths, files = _keyed_files(args)
    print(f"密钥保存在：{chain.location}；共 {len(chain.keys)} 把（按指纹列出，指纹不泄露密钥本身）。")
    for i, key in enumerate(chain.keys):
        users = [f for f in files if f.key == key]
        if i == 0:
            state = "当前密钥（新内容都用它加密）"
        elif users:
            state = "旧密钥，仍有文件需要它"
        else:
            state = "旧密钥，已没有文件需要它，可以停用"
        print(f"  密钥 {fingerprint(key)}：{state}")
        for f in users:
            print(f"    {f.label}：{f.path}" + ("（正在被运行中的 assist 使用）" if f.in_use else ""))
    lost = [f for f in files if f.key is None]
    if lost:
        print("以下文件用本机的任何密钥都打不开（文件头已损坏，或是用别处的密钥加密的；后者可用 "
              "assist sessions key import 导入团队主管保存的密钥）：")
        for f in lost:
            print(f"    {f.label}：{f.path}")
    if retirable(chain.keys, files):
        print("运行 assist sessions key retire 可停用不再需要的旧密钥。")
    elif len(chain.keys) > 1:
        print("运行 assist sessions key retire 会先把仍需要旧密钥的文件改用当前密钥加密，再停用旧密钥。")
    return 0


def _key_retire(args) -> int:
    """``key retire``: move every file still on an older key to the newest, then drop the keys none needs."""
    from assist.store import StoreError, open_store
    from assist.store.key_files import CannotMove, fingerprint, move_forward, retirable
    from assist.store.keys import load_keys, save_keys

    chain, paths, files = _keyed_files(args)
    if chain.backend == "env":
        raise UsageError("密钥来自环境变量 ASSIST_STORE_KEY，assist 不保存、也不能停用它；请在部署配置中管理密钥。")
    if len(chain.keys) < 2:
        print("只有一把密钥（当前使用的），没有可停用的旧密钥。")
        return 0
    current = chain.keys[0]
    to_move = [f for f in files if f.key is not None and f.key != current]
    print(f"密钥保存在：{chain.location}；共 {len(chain.keys)} 把，其中 {len(chain.keys) - 1} 把旧密钥。")
    if to_move:
        print("将先把下列文件改用当前密钥重新加密（内容不变，全程不以明文落盘）：")
        for f in to_move:
            print(f"  {f.label}：{f.path}")
    print("然后从密钥记录中删除已没有文件需要的旧密钥。删除后，用旧密钥加密、又不在本机的副本"
          "（如以前复制走的备份）只能用团队主管保存的密钥备份打开。")
    if not confirm("现在停用旧密钥吗？", args.yes,
                   "没有停用：无法在这里确认（不是交互终端）。确实要停用请加 --yes。"):
        print("未停用")
        return 1
    kept_why: list[str] = []
    for f in to_move:
        assert f.key is not None
        if f.in_use:
            kept_why.append(f"{f.label} {f.path} 正被运行中的 assist 使用：关闭 assist 后再运行本命令")
            continue
        try:
            if f.kind in ("store", "demo"):
                open_store(f.path).close()  # opening moves a store to the newest key (and replays its journals)
            else:
                move_forward(f.path, f.key, current)
        except (StoreError, CannotMove) as e:
            hint = ("先运行 assist sessions recover 救回其中的记录，确认后删除该文件，再运行本命令"
                    if f.kind == "set_aside" else "处理后再运行本命令")
            kept_why.append(f"{f.label} {f.path} 无法改用当前密钥（{e}）：{hint}")
    chain = load_keys()
    _chain, _paths, files = _keyed_files(args)
    retire = retirable(chain.keys, files)
    kept = [k for k in chain.keys[1:] if k not in retire]
    if retire:
        chain.keys = [k for k in chain.keys if k not in retire]
        save_keys(chain)
    names = "、".join(fingerprint(k) for k in retire)
    what = (f"停用 {len(retire)} 把旧密钥（指纹 {names}）" if retire else "没有停用旧密钥") + (
        f"；仍保留 {len(kept)} 把（仍有文件需要）" if kept else "")

    def run(store):
        store.audit("key retire", what, len(retire))
        return 0
    _run(args, run)
    print(f"{what}（已记入审计记录）。")
    for why in kept_why:
        print(f"  {why}")
    if retire:
        print("请运行 assist sessions key export 文件，把现在的密钥交给团队主管，替换旧的密钥备份。")
    return 0 if not kept else 1


def cmd_audit(args) -> int:
    if args.limit < 1:
        raise UsageError("--limit 至少为 1")
    names = {"export": "导出", "delete": "删除", "purge": "清理", "recover": "恢复", "rekey": "换密钥",
             "key export": "导出密钥", "key retire": "停用旧密钥", "retention": "保留策略"}

    def run(store):
        from rich.markup import escape
        from rich.table import Table

        rows = store.audit_entries(args.limit)
        console = _console()
        if not rows:
            console.print(f"{store.path} 还没有审计记录")
            return 0
        table = Table(box=None, pad_edge=False)
        for col in ("时间", "操作人", "操作", "内容", "行数"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(datetime.fromtimestamp(r["at"]).strftime("%Y-%m-%d %H:%M:%S"), escape(r["who"]),
                          names.get(r["action"], escape(r["action"])), escape(r["what"]), str(r["rows"]))
        console.print(table)
        return 0
    return _run(args, run)


SPEAKER_NAMES = {"agent": "坐席", "customer": "客户", "unknown": "未知"}
SEVERITY_NAMES = {"critical": "严重", "warning": "警告", "info": "提示"}
EVENT_NAMES = {"audio_gap": "音频中断", "device_problem": "设备问题", "listening_paused": "暂停收音"}


def render_session(console, bundle: dict, summary: dict) -> None:
    """Print a session readably: header, transcript with warnings inline, summary, notes."""
    from rich.rule import Rule
    from rich.text import Text

    from assist.store.export import clock, promise_line, stage_list

    s = bundle["session"]
    head = Text()
    head.append(f"通话 {s['id']}", style="bold")
    status = {"ended": "已结束", "interrupted": "中断", "open": "录制中", "recovered": "已恢复"}.get(s["status"],
                                                                                                s["status"])
    head.append(f"   {_when(s['started_at'])}，时长 {clock(summary['duration_s'])}，{status}")
    head.append(f"   话术 {summary['playbook_title'] or s.get('playbook_id') or '—'}")
    if s.get("kind") == "demo":
        head.append("   （演示）")
    console.print(head)
    console.print(Rule("文字记录"))
    if s.get("transcript_removed_at"):
        console.print(Text(f"  完整记录已按保留策略于 {_when(s['transcript_removed_at'])} 删除，以下只有摘要。",
                           style="dim"))
    colours = {"agent": "cyan", "customer": "magenta", "unknown": "white"}
    by_utt: dict[int, list[dict]] = {}
    for w in bundle["warnings"]:
        by_utt.setdefault(w["utterance_id"], []).append(w)
    stage_at = {st["utterance_id"]: st for st in bundle["stages"]}
    for u in bundle["utterances"]:
        if u["id"] in stage_at:
            st = stage_at[u["id"]]
            console.print(Text(f"  — 阶段 {st['stage_index']}：{st['title']} —", style="dim"))
        line = Text(f"[{clock(u['start_s'])}] ", style="dim")
        line.append(f"{SPEAKER_NAMES.get(u['speaker'], u['speaker'])}：", style=f"bold {colours.get(u['speaker'], 'white')}")
        line.append(u["text"])
        console.print(line)
        for w in by_utt.get(u["id"], []):
            style = {"critical": "bold red", "warning": "yellow"}.get(w["severity"], "blue")
            warn = Text(f"    ⚠ {SEVERITY_NAMES.get(w['severity'], w['severity'])} {w['title']}", style=style)
            warn.append(f"  “{w['said']}” → {w['message']}")
            if w["acknowledged"]:
                warn.append("  [已确认]", style="dim")
            console.print(warn)
    for e in bundle.get("call_events", []):
        where = f" {clock(e['start_s'])}-{clock(e['end_s'])}" if e["start_s"] is not None else ""
        channel = SPEAKER_NAMES.get(e["channel"], "全部") if e["channel"] else "全部"
        console.print(Text(f"  ! {EVENT_NAMES.get(e['kind'], e['kind'])}（{channel}声道）{where}：{e['message']}",
                           style="yellow"))

    console.print(Rule("摘要"))
    out = []
    talk = "，".join(f"{SPEAKER_NAMES.get(k, k)} {clock(v)}" for k, v in summary["talk_time_s"].items() if v)
    out.append(("通话时长", talk or "—"))
    st = summary["stages"]
    out.append(("已覆盖阶段", stage_list(st["covered"])))
    missed = stage_list(st["missed"]) if st["missed"] is not None else "未知（知识库中没有这套话术）"
    out.append(("遗漏阶段", missed))
    sev = summary["warnings"]["by_severity"]
    out.append(("警告", f"共 {summary['warnings']['total']} 条：严重 {sev.get('critical', 0)}，"
                      f"警告 {sev.get('warning', 0)}，提示 {sev.get('info', 0)}"))
    out.append(("显示的问答", "，".join(f["question"] + ("（已使用）" if f["used"] else "")
                                   for f in summary["faqs"]["shown"]) or "无"))
    out.append(("客户关切", "；".join(summary["concerns"]) or "无"))
    promises = summary["promises"]
    out.append(("还款承诺", promise_line(promises[0]) if promises else "未发现"))
    for p in promises[1:]:
        out.append(("", promise_line(p)))
    out.append(("备注", summary["notes"] or "—"))
    width = max(len(k) for k, _ in out)
    for k, v in out:
        line = Text(f"{k:<{width}}  ", style="bold")
        line.append(v)
        console.print(line)
