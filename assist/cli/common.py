"""Pieces every sub-command module shares: the usage error and KB opening."""
from __future__ import annotations

from assist.errors import AssistError


class UsageError(AssistError):
    """A problem with what the user asked for or gave; printed without a traceback (exit 2)."""


def add_kb_option(parser) -> None:
    parser.add_argument("--kb", metavar="目录", help="知识库目录（默认：ASSIST_KB 或自带的知识库）")


def open_kb(args):
    """Load the KB named by ``--kb``; a broken KB becomes a UsageError listing every problem, then what to do."""
    from assist.knowledge import KBError, load_kb

    try:
        return load_kb(getattr(args, "kb", None))
    except KBError as e:
        raise UsageError(e.message, e.fix) from None
