"""Lay the real panel out as docked on a given screen and report what is visible (JSON on stdout).

Run in its own process because QT_SCALE_FACTOR must be set before Qt starts:

    QT_SCALE_FACTOR=1.5 python tests/ui/panel_fit_probe.py 1366 768 dark [shot.png]

The panel plays the demo call up to its marked moment (warning, answer and
next line all showing) through the real engine, docked like ``dock_right``
does: full available height (screen minus a 40-pixel taskbar, scaled).
"""
import json
import os
import sys
from datetime import date, datetime
from datetime import time as dtime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, QRect  # noqa: E402
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel  # noqa: E402

TASKBAR_PX = 40  # physical pixels, like the Windows taskbar at 100 %


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("width", type=int)
    ap.add_argument("height", type=int)
    ap.add_argument("theme")
    ap.add_argument("shot", nargs="?")
    ap.add_argument("--at", default="10:00", help="call start HH:MM; 22:30 adds the calling-hours warning")
    args = ap.parse_args()
    width, height, theme, shot = args.width, args.height, args.theme, args.shot
    app = QApplication(sys.argv[:1])
    from assist.call import Call
    from assist.demo import load_demo
    from assist.engine import AssistEngine
    from assist.events import AssistResult, CallStarted, Utterance
    from assist.knowledge import load_kb
    from assist.ui.panel import Panel
    from assist.ui.theme import THEMES

    scale = float(os.environ.get("QT_SCALE_FACTOR", "1") or 1)
    panel = Panel(settings=None)
    panel.theme = THEMES[theme]
    panel.apply_look()
    kb = load_kb()
    panel.set_kb(kb)
    events: list = []
    call = Call(AssistEngine(kb), subscribers=(events.append,))
    # A call at a fixed time today (10:00 unless --at), so the moment is the same whatever the hour
    # the test runs at: at 22:30 the calling-hours rule queues a second warning behind the first.
    hh, mm = (int(x) for x in args.at.split(":"))
    at = datetime.combine(date.today(), dtime(hh, mm)).timestamp()
    call.start(devices={"agent": "耳机麦克风", "customer": "软电话输出"}, started_at=at)
    for line in load_demo():
        call.hear(Utterance(line.speaker, line.text, line.start, line.end, final=True, segment=f"s{line.start}"))
        if line.mark:
            break
    for e in events:
        if isinstance(e, CallStarted):
            panel.on_call_started(e)
        elif isinstance(e, AssistResult):
            panel.on_result(e)
    avail_h = int(height / scale - TASKBAR_PX / scale)
    panel.show()
    panel.dock_in(QRect(0, 0, int(width / scale), avail_h))
    for _ in range(5):
        app.processEvents()
    if shot:
        panel.grab().save(shot)

    def box(w):
        top_left = w.mapTo(panel, QPoint(0, 0))
        return [top_left.x(), top_left.y(), w.width(), w.height()]

    def seen(w):
        """Fully inside the panel and, if inside the cards' scroll area, inside its viewport."""
        if not w.isVisible():
            return False
        x, y, ww, hh = box(w)
        if x < 0 or y < 0 or x + ww > panel.width() or y + hh > panel.height():
            return False
        vp = panel.cards_scroll.viewport()
        if vp.isAncestorOf(w):
            p = w.mapTo(vp, QPoint(0, 0))
            return p.y() >= 0 and p.y() + hh <= vp.height()
        return True

    clipped = []
    for w in panel.findChildren(QAbstractButton):
        if w.isVisible() and (w.width() < w.sizeHint().width() or w.height() < w.minimumSizeHint().height()):
            clipped.append([w.text() or w.toolTip(), w.width(), w.sizeHint().width()])
    for w in panel.findChildren(QLabel):
        if w.isVisible() and not w.wordWrap() and w.text() and w.width() < w.minimumSizeHint().width():
            clipped.append([w.text(), w.width(), w.minimumSizeHint().width()])
    report = {
        "panel": [panel.width(), panel.height()], "avail_h": avail_h, "scale": scale,
        "warning": seen(panel.warning_banner), "answer": seen(panel.cards.faq_card),
        "next_line": seen(panel.cards.line_card), "next_line_box": box(panel.cards.line_card),
        "clipped": clipped, "warnings": len(panel.warning_banner.pending),
        "shown": panel.warning_banner.current.warning.severity if panel.warning_banner.current else None,
        "count_line": seen(panel.warning_banner.more), "minimum": [panel.minimumSizeHint().width(), panel.minimumSizeHint().height()],
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
