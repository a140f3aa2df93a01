"""The ``assist`` command line: one module per group of sub-commands.

Each module has ``register(subparsers)`` and imports what it needs lazily inside
its command functions, so ``assist analyze`` starts without loading Qt or vosk.
Running ``assist`` with no sub-command opens the side panel.
"""
from __future__ import annotations

import argparse
import sys

from assist import __version__
from assist.printable import printable
from assist.cli import analyze, app, audio, chinese_argparse, kb, ledger, sessions
from assist.errors import AssistError

GROUPS = (analyze, kb, sessions, ledger, audio, app)


def build_parser() -> argparse.ArgumentParser:
    chinese_argparse.install()
    parser = argparse.ArgumentParser(
        prog="assist",
        description="坐席助手：消费金融电话的离线实时提示（普通话）。不带命令时打开侧边面板。",
    )
    parser.add_argument("--version", action="version", version=f"assist {__version__}", help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from assist.store.masking import mask_log_records

    mask_log_records()  # nothing any command logs shows an ID-card, phone or card number in full
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        func = app.open_panel
    try:
        return int(func(args) or 0)
    except AssistError as e:  # UsageError and every other problem the user can fix
        print(f"assist: {printable(e.for_user())}", file=sys.stderr)  # may quote a file name or input
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
