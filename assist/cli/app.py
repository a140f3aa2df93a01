"""Sub-commands that open windows: the side panel (no command), ``demo``, ``browse``, ``review``.

Qt is imported only inside the command functions, so the rest of the CLI
starts without it; ``assist.ui`` is the one package that imports PySide6.
"""
from __future__ import annotations

import sys
from pathlib import Path

from assist.cli.common import UsageError, add_kb_option


def register(sub) -> None:
    p = sub.add_parser("demo", help="open the panel and play a sample call (no microphone, no model)",
                       description="Plays a sample 长江分期 call (seed 000) through the real engine, "
                       "store and side panel.")
    add_kb_option(p)
    p.add_argument("--fast", action="store_true", help="play without pauses (seconds instead of minutes)")
    p.add_argument("--speed", type=float, default=2.0, help="playback speed, 1 = real time (default 2)")
    p.add_argument("--screenshot", metavar="FILE", help="save a PNG of the panel mid-call")
    p.add_argument("--quit-after", type=float, metavar="SECONDS", help="close the app after this long")
    p.add_argument("--demo-file", metavar="FILE", help="another demo call (JSON lines)")
    p.set_defaults(func=run_demo)

    p = sub.add_parser("browse", help="browse and search the knowledge base")
    add_kb_option(p)
    p.set_defaults(func=run_browse)

    p = sub.add_parser("review", help="review past calls: transcript, warnings, summary, notes, export")
    p.add_argument("id", nargs="?", help="session id or a unique prefix to open")
    p.set_defaults(func=run_review)


def _check_display() -> None:
    """Qt aborts with a cryptic message without a display: say what to do instead."""
    from assist.config import has_display

    if sys.platform.startswith("linux") and not has_display():
        raise UsageError("no display to open a window on: run this in a desktop session, "
                         "or under a virtual display with `xvfb-run -a assist ...`")


def _kb_dir(args) -> str | None:
    kb = getattr(args, "kb", None)
    if kb and not Path(kb).is_dir():
        raise UsageError(f"--kb {kb}: no such folder")
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
        raise UsageError(f"--speed {args.speed}: must be more than 0")
    if args.quit_after is not None and args.quit_after <= 0:
        raise UsageError(f"--quit-after {args.quit_after}: must be more than 0 seconds")
    if args.screenshot:
        folder = Path(args.screenshot).expanduser().resolve().parent
        if not folder.is_dir():
            raise UsageError(f"--screenshot {args.screenshot}: folder {folder} does not exist")
        if Path(args.screenshot).suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}: the file name must end in .png")
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
