"""Child process of tests/ui/test_global_hotkeys.py: the real panel on a real X server (Xvfb), with the
global hotkeys installed exactly as ``assist`` installs them. Prints one JSON line per event:
``ready`` (window id, keys held, the problem and the notice shown), each hotkey handled (and whether
the panel is visible after it), each pause request. Quits when its standard input closes.
"""
import json
import sys
import threading

from PySide6.QtCore import QObject, QSettings, Signal

from assist.ui.app import ensure_app
from assist.ui.global_hotkeys import install_global_hotkeys
from assist.ui.panel import Panel


def say(**kw) -> None:
    print(json.dumps(kw, ensure_ascii=False), flush=True)


app = ensure_app()
panel = Panel(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat))
panel.show()
panel.pause_requested.connect(lambda: say(pause=True))
keys = install_global_hotkeys(panel)
# connected after install's own slot: runs once the panel has been shown or hidden
keys.activated.connect(lambda name: say(hotkey=name, visible=panel.isVisible()))
app.processEvents()
say(ready=True, window=int(panel.winId()), grabbed=keys.grabbed, problem=keys.problem,
    notice=panel.notice.message.toolTip() if panel.notice.isVisible() else "",
    fix=panel.notice.fix.text() if panel.notice.isVisible() else "",
    help=panel.help_overlay.global_note.text())


class Closer(QObject):
    closed = Signal()


closer = Closer()
closer.closed.connect(app.quit)  # queued: emitted from the thread below


def wait_for_stdin_close() -> None:
    sys.stdin.read()
    closer.closed.emit()


threading.Thread(target=wait_for_stdin_close, daemon=True).start()
sys.exit(app.exec())
