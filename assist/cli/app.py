"""Sub-commands that open windows: the side panel (no command), ``demo``, ``browse``, ``review``.

Qt is imported only inside the command functions, so the rest of the CLI
starts without it; ``assist.ui`` is the one package that imports PySide6.
"""
from __future__ import annotations

import sys
from pathlib import Path

from assist.cli.common import UsageError, add_kb_option


def register(sub) -> None:
    p = sub.add_parser("demo", help="打开侧边面板并播放一通示例通话（不需要麦克风和语音模型）",
                       description="用真实的引擎、记录库和侧边面板播放一通长江分期的示例通话。")
    add_kb_option(p)
    p.add_argument("--fast", action="store_true", help="不停顿地播放（几秒钟放完）")
    p.add_argument("--speed", type=float, default=2.0, metavar="倍速", help="播放速度，1 = 实时（默认 2）")
    p.add_argument("--screenshot", metavar="图片.png", help="在通话中途把面板截图保存为 PNG")
    p.add_argument("--quit-after", type=float, metavar="秒数", help="通话开始后这么多秒自动关闭（从通话开始算，不含加载知识库的时间）")
    p.add_argument("--demo-file", metavar="文件", help="另一通示例通话（JSON Lines 文件）")
    p.set_defaults(func=run_demo)

    p = sub.add_parser("browse", help="浏览和搜索知识库")
    add_kb_option(p)
    p.set_defaults(func=run_browse)

    p = sub.add_parser("review", help="回顾以往通话：文字稿、合规警告、总结、备注、导出")
    p.add_argument("id", nargs="?", metavar="会话编号", help="要打开的通话记录编号（或其唯一前缀）")
    p.set_defaults(func=run_review)


def _check_display() -> None:
    """Qt aborts with a cryptic message without a display: say what to do instead."""
    from assist.config import has_display

    if sys.platform.startswith("linux") and not has_display():
        raise UsageError("没有可显示窗口的桌面：请在桌面会话里运行，"
                         "或在虚拟显示下运行：xvfb-run -a assist …")


def _kb_dir(args) -> str | None:
    kb = getattr(args, "kb", None)
    if kb and not Path(kb).is_dir():
        raise UsageError(f"--kb {kb}：没有这个文件夹")
    return kb


def open_panel(args) -> int:
    """``assist`` with no command: the live side panel."""
    kb = _kb_dir(args)
    _check_display()
    from assist.ui.app import run_panel

    return run_panel(kb)


def run_demo(args) -> int:
    kb = _kb_dir(args)
    if args.speed <= 0:
        raise UsageError(f"--speed {args.speed}：必须大于 0")
    if args.quit_after is not None and args.quit_after <= 0:
        raise UsageError(f"--quit-after {args.quit_after}：必须大于 0 秒")
    if args.screenshot:
        folder = Path(args.screenshot).expanduser().resolve().parent
        if not folder.is_dir():
            raise UsageError(f"--screenshot {args.screenshot}：文件夹 {folder} 不存在")
        if Path(args.screenshot).suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}：文件名必须以 .png 结尾")
    if args.demo_file:
        from assist.demo import DemoError, load_demo

        try:
            load_demo(args.demo_file)
        except DemoError as e:
            raise UsageError(str(e)) from None
    _check_display()
    from assist.ui.app import run_demo as run

    return run(kb, fast=args.fast, speed=args.speed, screenshot=args.screenshot,
               quit_after=args.quit_after, demo_file=args.demo_file)


def run_browse(args) -> int:
    kb = _kb_dir(args)
    _check_display()
    from assist.ui.app import run_browse as run

    return run(kb)


def run_review(args) -> int:
    if args.id:
        from assist.store import StoreError, open_store

        try:
            with open_store() as store:
                store.resolve_id(args.id)
        except StoreError as e:
            raise UsageError(str(e)) from None
    _check_display()
    from assist.ui.app import run_review as run

    return run(args.id)
