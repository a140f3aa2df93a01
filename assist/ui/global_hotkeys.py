"""System-wide hotkeys: show/hide the panel and pause listening while another window has the focus.

The agent works in the softphone; reaching for the panel to pause listening (a customer reads
out a card number) or to get it out of the way should not need a mouse trip. Where the platform
allows it, two keys work from any window (``GLOBAL_HOTKEYS``); everywhere the panel's own
shortcuts (``help_overlay.SHORTCUTS``: Ctrl+P …) keep working while an assist window has the focus.

How, and where not:
- **X11** (Linux desktops on Xorg): python-xlib opens its own connection to the X server and
  grabs the keys on the root window (``XGrabKey``, also with Caps Lock / Num Lock on, which X
  counts as modifiers). A grab another program holds fails with ``BadAccess``: that key is then
  reported as taken (``problem``). A worker thread (``assist-hotkeys``) waits on the connection's
  socket and turns each press into the queued ``activated`` signal: the GUI thread never blocks
  on X, and the worker never touches a widget.
- **Wayland**: a program cannot see keys meant for other windows (by design of the protocol);
  global shortcuts go through the desktop's GlobalShortcuts portal (xdg-desktop-portal, where
  the user approves each binding), which is not done here. XWayland's X server only sees keys
  while an X11 window has the focus, so an X grab would look like it works and then not fire
  over native Wayland windows: on Wayland nothing is grabbed and ``problem`` says so.
- **Windows, macOS**: not done (RegisterHotKey / a CGEvent tap would be the ways); ``problem``
  says so.
- Offscreen or other non-desktop Qt platforms (tests, screenshots): nothing, silently.

``problem`` is Chinese, for the panel's notice and the shortcut list. GUI thread, except where noted.
"""
from __future__ import annotations

import logging
import os
import select
import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

log = logging.getLogger(__name__)

GLOBAL_HOTKEYS = {"toggle_panel": "Ctrl+Alt+H", "pause": "Ctrl+Alt+P"}
GLOBAL_DESCRIPTIONS = {"toggle_panel": "显示 / 隐藏面板（在任何窗口里都有效）",
                       "pause": "暂停 / 继续收音（在任何窗口里都有效）"}
_DESKTOP_PLATFORMS = {"xcb", "wayland", "windows", "cocoa"}


def platform_problem(platform: str, environ: dict[str, str] | None = None) -> str | None:
    """Why global hotkeys cannot be had on Qt platform ``platform`` (Chinese), "" when not a desktop,
    None when X11 may allow them (grabbing decides)."""
    env = os.environ if environ is None else environ
    if platform == "wayland" or (platform == "xcb" and env.get("WAYLAND_DISPLAY")):
        return ("Wayland 桌面不允许程序接收发给其他窗口的按键，全局快捷键在这里不可用"
                "（需要桌面的“全局快捷键”门户，本软件暂不支持）")
    if platform in ("windows", "cocoa"):
        return "本系统上暂不支持全局快捷键"
    if platform != "xcb":
        return ""  # offscreen, minimal, vnc…: not an agent's desktop
    if not env.get("DISPLAY"):
        return "找不到 X 显示服务器（没有设置 DISPLAY），全局快捷键不可用"
    return None


def _parse(combo: str) -> tuple[list[str], str]:
    *mods, key = combo.split("+")
    return mods, key


class GlobalHotkeys(QObject):
    """Grabs ``keys`` (name -> "Ctrl+Alt+H") system-wide where the platform allows; ``activated(name)``."""

    activated = Signal(str)  # emitted from the worker thread; connect queued (the default across threads)

    def __init__(self, parent: QObject | None = None, keys: dict[str, str] | None = None):
        super().__init__(parent)
        self.keys = dict(GLOBAL_HOTKEYS if keys is None else keys)
        self.grabbed: dict[str, str] = {}  # name -> combo actually held
        self.problem = ""  # Chinese: why some or all keys are not global ("" when all are, or not a desktop)
        self._display = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._codes: dict[tuple[int, int], str] = {}  # (keycode, modifier mask) -> name

    def start(self, platform: str | None = None) -> bool:
        """Grab the keys now (so a conflict is known at once) and start listening; True if any is global."""
        platform = QGuiApplication.platformName() if platform is None else platform
        why = platform_problem(platform)
        if why is not None:
            self.problem = why
            return False
        try:
            self._grab_x11()
        except ImportError as e:
            log.warning("global hotkeys unavailable: %s", e)
            self.problem = "全局快捷键所需的组件没有安装，重新安装本软件可恢复"
            return False
        except Exception as e:  # no python-xlib, no connection, a broken server: the in-window keys remain
            log.warning("global hotkeys unavailable: %s", e)
            self.problem = "无法连接 X 显示服务器，全局快捷键不可用"
            self._close()
            return False
        if not self.grabbed:
            self._close()
            return False
        self._thread = threading.Thread(target=self._listen, name="assist-hotkeys", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Let go of the keys (GUI thread; returns within a quarter of a second)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        else:
            self._close()

    # -- X11 ------------------------------------------------------------------------------------

    def _grab_x11(self) -> None:
        from Xlib import X, XK, display, error

        d = self._display = display.Display()
        root = d.screen().root
        mod_masks = {"Ctrl": X.ControlMask, "Alt": X.Mod1Mask, "Shift": X.ShiftMask, "Super": X.Mod4Mask}
        # Caps Lock and Num Lock count as modifiers in X: grab with each of them on as well
        num_lock = 0
        num_code = d.keysym_to_keycode(XK.string_to_keysym("Num_Lock"))
        for i, codes in enumerate(d.get_modifier_mapping()):
            if num_code and num_code in codes:
                num_lock = 1 << i
        locks = sorted({0, X.LockMask, num_lock, X.LockMask | num_lock})
        taken: list[str] = []
        for name, combo in self.keys.items():
            mods, key = _parse(combo)
            mask = 0
            for m in mods:
                mask |= mod_masks[m]
            keycode = d.keysym_to_keycode(XK.string_to_keysym(key.lower() if len(key) == 1 else key))
            if not keycode:
                taken.append(combo)
                continue
            catch = error.CatchError(error.BadAccess)
            for lock in locks:
                root.grab_key(keycode, mask | lock, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
            d.sync()  # errors arrive asynchronously: wait for the server's answer to know
            if catch.get_error() is not None:
                for lock in locks:  # give back whatever part of it we did get
                    root.ungrab_key(keycode, mask | lock)
                d.sync()
                taken.append(combo)
                continue
            self.grabbed[name] = combo
            self._codes[(keycode, mask)] = name
        if taken:
            self.problem = (f"全局快捷键 {'、'.join(taken)} 已被其他程序占用，在其他窗口里按它对坐席助手不起作用"
                            "（面板处于前台时，面板自己的快捷键照常有效）")

    def _listen(self) -> None:
        """Worker thread: wait for presses of the grabbed keys and emit ``activated``; ungrab at stop."""
        from Xlib import X

        d = self._display
        assert d is not None
        relevant = X.ControlMask | X.Mod1Mask | X.ShiftMask | X.Mod4Mask
        released_at: dict[int, int] = {}
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([d], [], [], 0.25)
                if not ready and not d.pending_events():
                    continue
                for _ in range(d.pending_events()):
                    ev = d.next_event()
                    if ev.type == X.KeyRelease:
                        released_at[ev.detail] = ev.time
                    elif ev.type == X.KeyPress:
                        # a held key repeats as release+press with the same time stamp: one action per press
                        if released_at.get(ev.detail) == ev.time:
                            continue
                        name = self._codes.get((ev.detail, ev.state & relevant))
                        if name is not None:
                            self.activated.emit(name)
        except Exception as e:  # the X server went away: the in-window shortcuts remain
            log.warning("global hotkeys stopped: %s", e)
        finally:
            self._close()

    def _close(self) -> None:
        d, self._display = self._display, None
        if d is None:
            return
        try:
            d.screen().root.ungrab_key(0, 1 << 15)  # AnyKey, AnyModifier: everything this connection holds
            d.close()
        except Exception:
            pass  # the connection is gone already


def install_global_hotkeys(panel, platform: str | None = None) -> GlobalHotkeys:
    """Wire the global hotkeys to ``panel`` (GUI thread): show/hide it, pause listening; say why not.

    A reason they are unavailable is shown once per machine and wording (it is news once, not at every
    start), and always in the shortcut list (F1).
    """
    keys = GlobalHotkeys(panel)
    keys.activated.connect(lambda name: _on_hotkey(panel, name))
    keys.start(platform)
    panel.help_overlay.set_global_hotkeys(keys.grabbed, keys.problem)
    settings = getattr(panel, "settings", None)
    if keys.problem and (settings is None or settings.value("hotkeys/problem_shown") != keys.problem):
        if settings is not None:
            settings.setValue("hotkeys/problem_shown", keys.problem)
        if not panel.notice.isVisible():  # never cover a notice that matters for the call
            panel.show_problem("hotkey", keys.problem, "按 F1 查看面板自己的快捷键。")
    app = QGuiApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(keys.stop)
    return keys


def _on_hotkey(panel, name: str) -> None:
    if name == "toggle_panel":
        panel.toggle_shown()
    elif name == "pause":
        panel.toggle_pause()
