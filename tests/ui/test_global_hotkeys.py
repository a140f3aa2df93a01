"""Global hotkeys for real: the panel on an X server (Xvfb), keys sent through XTest while another
window has the focus; and what happens where they cannot be had (Wayland, a key another program holds).
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("hotkey_probe.py")
KEY_WORDS = ("ctrl", "alt", "h", "p", "f1")


@pytest.fixture
def xserver():
    """A private Xvfb; yields its display name (":N")."""
    if not shutil.which("Xvfb"):
        pytest.fail("Xvfb is not installed (apt-get install xvfb)")
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    number = b""
    with os.fdopen(r, "rb") as f:
        while not number.endswith(b"\n"):
            chunk = f.read(1)
            assert chunk, "Xvfb did not start"
            number += chunk
    yield f":{number.decode().strip()}"
    proc.terminate()
    proc.wait(timeout=10)


class Probe:
    """The panel process; ``next()`` returns its next JSON line."""

    def __init__(self, display: str, tmp_path: Path):
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        self.proc = subprocess.Popen([sys.executable, str(PROBE), str(tmp_path / "panel.ini")], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))
        self.lines.put(None)

    def next(self, timeout: float = 60) -> dict:
        item = self.lines.get(timeout=timeout)
        if item is None:
            raise AssertionError(f"the panel process ended: {self.proc.stderr.read() if self.proc.stderr else ''}")
        return item

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def probe(xserver, tmp_path):
    probes: list[Probe] = []

    def start() -> Probe:
        p = Probe(xserver, tmp_path)
        probes.append(p)
        return p

    yield start
    for p in probes:
        p.close()


def _x(display: str):
    from Xlib import display as xdisplay

    return xdisplay.Display(display)


def _other_window(d):
    """Another application's window (a plain X window of this test's connection), mapped and focused."""
    from Xlib import X

    screen = d.screen()
    win = screen.root.create_window(0, 0, 400, 300, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
                                    background_pixel=screen.white_pixel, event_mask=X.KeyPressMask)
    win.set_wm_name("softphone")
    win.map()
    d.sync()
    return win


def _focus(d, win) -> None:
    """Give ``win`` the focus and wait until it keeps it: a panel window just shown again is
    activated by Qt a moment later and takes the focus then (seen on a fast machine)."""
    import time

    from Xlib import X

    def focused() -> int:  # a window, or PointerRoot / None as a number
        f = d.get_input_focus().focus
        return getattr(f, "id", f)

    deadline, held = time.monotonic() + 15, 0
    while time.monotonic() < deadline and held < 3:
        if focused() == win.id:
            held += 1
        else:
            held = 0
            win.set_input_focus(X.RevertToParent, X.CurrentTime)
            d.sync()
        time.sleep(0.1)
    assert focused() == win.id


def _press(d, *keysyms: str) -> None:
    """Press the keys in order and release them in reverse, through the XTest extension."""
    from Xlib import X, XK
    from Xlib.ext import xtest

    codes = [d.keysym_to_keycode(XK.string_to_keysym(k)) for k in keysyms]
    for c in codes:
        xtest.fake_input(d, X.KeyPress, c)
    for c in reversed(codes):
        xtest.fake_input(d, X.KeyRelease, c)
    d.sync()


def _map_state(d, window_id: int) -> int:
    return d.create_resource_object("window", window_id).get_attributes().map_state


def _wait_map_state(d, window_id: int, state: int) -> bool:
    for _ in range(200):  # the probe's line arrives after Qt asked; the server may map a moment later
        if _map_state(d, window_id) == state:
            return True
        time.sleep(0.05)
    return False


def test_hotkeys_show_hide_and_pause_from_another_window(xserver, probe, latin_words):
    from Xlib import X

    d = _x(xserver)
    p = probe()
    ready = p.next()
    assert ready["grabbed"] == {"toggle_panel": "Ctrl+Alt+H", "pause": "Ctrl+Alt+P"}
    assert ready["problem"] == "" and ready["notice"] == ""
    panel = ready["window"]
    assert _map_state(d, panel) == X.IsViewable
    other = _other_window(d)
    _focus(d, other)  # the agent is typing in the softphone

    _press(d, "Control_L", "Alt_L", "h")
    assert p.next() == {"hotkey": "toggle_panel", "visible": False}
    assert _wait_map_state(d, panel, X.IsUnmapped)
    assert d.get_input_focus().focus.id == other.id  # the key did not go through the focused window

    _press(d, "Control_L", "Alt_L", "h")
    assert p.next() == {"hotkey": "toggle_panel", "visible": True}
    assert _wait_map_state(d, panel, X.IsViewable)

    _focus(d, other)
    _press(d, "Control_L", "Alt_L", "p")
    got = [p.next(), p.next()]  # the pause request and the hotkey's own line, in that order
    assert got == [{"pause": True}, {"hotkey": "pause", "visible": True}]

    # Caps Lock on (X counts it as a modifier) still works
    _press(d, "Caps_Lock")
    _press(d, "Control_L", "Alt_L", "p")
    assert p.next() == {"pause": True}
    _press(d, "Caps_Lock")


def test_a_key_another_program_holds_is_reported_and_in_window_keys_still_work(xserver, probe, latin_words):
    from Xlib import X, XK

    d = _x(xserver)
    code = d.keysym_to_keycode(XK.string_to_keysym("h"))
    d.screen().root.grab_key(code, X.ControlMask | X.Mod1Mask, False, X.GrabModeAsync, X.GrabModeAsync)
    d.sync()  # another program holds Ctrl+Alt+H
    p = probe()
    ready = p.next()
    assert ready["grabbed"] == {"pause": "Ctrl+Alt+P"}  # the other key is still had
    assert "Ctrl+Alt+H" in ready["problem"] and "占用" in ready["problem"]
    assert ready["notice"] and "占用" in ready["notice"] and "F1" in ready["fix"]
    assert ready["help"] == ready["problem"]  # the shortcut list (F1) says it too
    for text in (ready["notice"], ready["fix"], ready["problem"]):
        assert latin_words(text, also=KEY_WORDS) == [], text

    # the panel's own shortcut works while it has the focus
    _focus(d, d.create_resource_object("window", ready["window"]))
    _press(d, "Control_L", "p")
    assert p.next() == {"pause": True}


def test_wayland_says_why_once_and_the_panel_keys_still_work(qtbot, tmp_path, latin_words):
    from PySide6.QtCore import QSettings, Qt

    from assist.ui.global_hotkeys import install_global_hotkeys, platform_problem
    from assist.ui.panel import Panel

    settings = QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)
    panel = Panel(settings=settings)
    qtbot.addWidget(panel)
    panel.show()
    keys = install_global_hotkeys(panel, platform="wayland")
    assert keys.grabbed == {} and "Wayland" in keys.problem
    assert panel.notice.isVisible() and panel.notice.kind == "hotkey"
    shown = panel.notice.message.toolTip() + panel.notice.fix.text()
    assert latin_words(shown, also=(*KEY_WORDS, "wayland")) == [], shown
    assert panel.help_overlay.global_note.text() == keys.problem
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(panel.pause_requested, timeout=2000):  # the panel's own Ctrl+P
        qtbot.keyClick(panel, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    panel.notice.dismiss()
    install_global_hotkeys(panel, platform="wayland")  # the next start: said once is enough
    assert not panel.notice.isVisible()
    # an X server under Wayland (XWayland) is not a way round it; tests and screenshots get nothing, silently
    assert "Wayland" in platform_problem("xcb", {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})
    assert platform_problem("offscreen", {}) == ""
    assert platform_problem("windows", {}) and platform_problem("cocoa", {})
    assert platform_problem("xcb", {"DISPLAY": ":0"}) is None  # X11: the grab decides
