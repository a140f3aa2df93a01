"""Everything an agent or team lead sees is Chinese: no English, ids, file names or "seed".

Walks every widget of the panel (mid-call and after), the KB browser (each
kind of entry, every card) and review (list, transcript, summary) offscreen,
and fails on any Latin word outside the allowlist: the abbreviations the
product uses in Chinese (KB, App, ID, CSV), key names printed on keyboards, XX
placeholders of script templates, and pinyin (what a user types to search).
"""


import re

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from assist.zh.pinyin import splits

ALLOWED = {"kb", "app", "id", "csv"}
KEYS = {"ctrl", "shift", "alt", "space", "enter", "esc", "tab", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8",
        "f9", "f10", "f11", "f12"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def allowed(word: str) -> bool:
    w = word.lower()
    if w in ALLOWED or w in KEYS or re.fullmatch(r"x+", w):
        return True
    return word.islower() and bool(splits(word, last_may_be_partial=False))  # pinyin


def texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) for everything shown by ``root`` and its children."""
    out: list[tuple[str, str]] = []
    for w in [root, *root.findChildren(QWidget)]:
        name = f"{type(w).__name__}:{w.objectName()}"
        add = lambda t, what="": t and out.append((name + what, str(t)))  # noqa: E731
        if w.isWindow():
            add(w.windowTitle(), "[title]")
        add(w.toolTip(), "[tip]")
        for a in w.actions():  # menu entries (the panel's 更多 menu) and widget actions
            add(a.text(), "[action]")
            add(a.toolTip() if a.toolTip() != a.text().replace("&", "") else "", "[action tip]")
        if isinstance(w, QLabel):
            add(w.text())
        elif isinstance(w, QAbstractButton):
            add(w.text())
        elif isinstance(w, QLineEdit):
            add(w.text())
            add(w.placeholderText(), "[placeholder]")
        elif isinstance(w, (QPlainTextEdit, QTextEdit)):
            add(w.toPlainText())
            add(w.placeholderText(), "[placeholder]")
        elif isinstance(w, QComboBox):
            for i in range(w.count()):
                add(w.itemText(i), f"[item {i}]")
        elif isinstance(w, QTabWidget):
            for i in range(w.count()):
                add(w.tabText(i), f"[tab {i}]")
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()
            cols = 1 if isinstance(m, QAbstractListModel) else m.columnCount(QModelIndex())
            for c in range(cols):
                add(m.headerData(c, Qt.Orientation.Horizontal), f"[header {c}]")
            for r in range(min(m.rowCount(QModelIndex()), 500)):
                for c in range(cols):
                    idx = m.index(r, c)
                    add(m.data(idx), f"[row {r}]")
                    add(m.data(idx, Qt.ItemDataRole.ToolTipRole), f"[row {r} tip]")
    return out


# Not prose: rich-text markup; GB/T (a national standard); a file path or a command a notice
# tells the user to run (errors say where and what to do).
TAG = re.compile(r"<[^>]+>|&[a-z]+;|GB/T|(?:[A-Za-z]:)?[/\\][^\s（）()，。；]+|\bassist(?: [a-z][a-z-]*)+")
KEY_COMBO = re.compile(r"\b(?:Ctrl|Shift|Alt)(?:\+(?:Ctrl|Shift|Alt))*\+\w+")  # Ctrl+Shift+C


def latin_words(root: QWidget) -> list[tuple[str, str, str]]:
    """(where, word, text) for each Latin word outside the allowlist."""
    return [(where, m.group(), text) for where, text in texts(root)
            for m in WORD.finditer(KEY_COMBO.sub(" ", TAG.sub(" ", text))) if not allowed(m.group())]

RAW_ID = re.compile(r"\b[0-9a-f]{8,}\b|\b[a-z]+[._][a-z_.]+\b")  # session ids, KB ids like cj.credit_impact


def _check(root):
    bad = latin_words(root)
    assert not bad, "\n".join(f"{where}: {word!r} in {text[:80]!r}" for where, word, text in bad[:20])
    for where, text in texts(root):
        assert "seed" not in text.lower(), (where, text)
        assert not RAW_ID.search(TAG.sub(" ", text)), (where, text)


def _play_demo(qtbot, demo):
    marks = []
    demo.demo_mark.connect(lambda i, m: marks.append(m))
    assert demo.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)


def test_panel_mid_call_and_after(qtbot, demo, panel):
    _check(panel)
    _play_demo(qtbot, demo)
    qtbot.waitUntil(lambda: panel.warning_banner.isVisible(), timeout=5000)
    _check(panel)
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    _check(panel)


def test_kb_browser_every_card(qtbot):
    from assist.ui.kb_browser import KbBrowser

    b = KbBrowser()
    qtbot.addWidget(b)
    qtbot.waitUntil(lambda: b.settled, timeout=15000)  # KB loaded and indexed, both on workers
    for kind in range(b.kind_box.count()):
        b.kind_box.setCurrentIndex(kind)
        for row in range(len(b.hits)):
            b.results.setCurrentIndex(b.model.index(row))
            bad = [w for w in WORD.findall(TAG.sub(" ", b.card.toPlainText())) if not allowed(w)]
            assert not bad, (b.hits[row].title, bad)
    _check(b)


def test_review_of_a_call(qtbot, demo, panel):
    from assist.ui.review import ReviewWindow

    _play_demo(qtbot, demo)
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    win = ReviewWindow(demo.store, kb=demo.kb)
    qtbot.addWidget(win)
    win.refresh()
    assert win.open_session(panel.session_id)
    for i in range(win.tabs.count()):
        win.tabs.setCurrentIndex(i)
        _check(win)


def test_qt_dialog_buttons_are_chinese(qapp):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QMessageBox

    from assist.ui.translations import install_chinese_translations

    assert install_chinese_translations(qapp)
    assert QCoreApplication.translate("QPlatformTheme", "OK") == "确定"
    box = QMessageBox(QMessageBox.Icon.Question, "确认", "要删除吗？",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    assert {b.text() for b in box.buttons()} == {"是(&Y)", "否(&N)"}
    box.deleteLater()


def test_panel_menus_notices_and_shortcut_list(qtbot, panel):
    """What the panel words itself beyond a call: its menu, a lost device on each channel, the global
    hotkeys' notice and the shortcut list (F1) with them."""
    from assist.events import CallStarted, DeviceProblem
    from assist.ui.global_hotkeys import install_global_hotkeys

    assert panel.menu_button.menu().actions()  # the 更多 menu is walked through the button's menu
    assert any(where.endswith("[action]") for where, _ in texts(panel))
    _check(panel)
    panel.on_call_started(CallStarted("s1", None, 0.0, devices={"agent": "USB Headset", "customer": "Loopback"}))
    for channel, device in (("agent", "USB Headset"), ("customer", "Loopback")):
        panel.on_device_problem(DeviceProblem(channel, "lost", kind="lost", device=device))
        assert panel.notice.isVisible() and f"「{device}」" in panel.notice.message.toolTip()
        for where, text in texts(panel.notice):
            bad = [w for w in WORD.findall(TAG.sub(" ", text.replace(device, ""))) if not allowed(w)]
            assert not bad, (where, text)
        panel.on_device_problem(DeviceProblem(channel, "back", kind="lost", device=device, recovered=True))
        assert not panel.notice.isVisible()
    install_global_hotkeys(panel, platform="wayland")  # the notice where global keys cannot be had
    assert panel.notice.isVisible()
    panel.show_help()
    assert panel.help_overlay.global_note.text()
    bad = [(where, w, text) for where, text in texts(panel)
           for w in WORD.findall(KEY_COMBO.sub(" ", TAG.sub(" ", text.replace("USB Headset", "").replace("Loopback", ""))))
           if not allowed(w) and w != "Wayland"]  # (device names are the system's; Wayland is a name)
    assert not bad, bad


def test_device_dialog(qtbot):
    """The device picker's own words (device names are the system's and may be Latin)."""
    from assist.ui.device_dialog import DeviceDialog

    class Device:
        def __init__(self, name):
            self.name = name

    names = ["USB Headset: Audio (hw:1,0)", "pulse"]
    dlg = DeviceDialog(list_inputs=lambda: [Device(n) for n in names], probe_levels=False)
    qtbot.addWidget(dlg)
    dlg.show()
    found = [(where, text) for where, text in texts(dlg)]
    assert any("选择耳机" in text for _, text in found)
    for where, text in found:
        for n in names:
            text = text.replace(n, "")
        bad = [w for w in WORD.findall(TAG.sub(" ", text)) if not allowed(w)]
        assert not bad, (where, text)

    def broken():
        raise OSError("PortAudio library not found")

    dlg2 = DeviceDialog(list_inputs=broken, probe_levels=False)  # no audio system: said in Chinese
    qtbot.addWidget(dlg2)
    assert "找不到音频输入设备" in dlg2.problem.text()
    _check(dlg2)
