"""Failures a window cannot foresee are shown in Chinese: the OS's and libraries' English stays in the log."""
import errno

from assist.errors import AssistError
from assist.ui.error_words import problem_text


def test_os_errors_say_what_and_where_in_chinese(latin_words):
    denied = problem_text(PermissionError(errno.EACCES, "Permission denied", "/mnt/共享/通话记录.md"))
    assert denied == "没有写入或读取这个位置的权限（/mnt/共享/通话记录.md）"
    assert problem_text(OSError(errno.ENOSPC, "No space left on device")) == "磁盘已满"
    assert "只读" in problem_text(OSError(errno.EROFS, "Read-only file system", "/media/u"))
    assert latin_words(problem_text(OSError(errno.EXDEV, "Invalid cross-device link"))) == []


def test_our_errors_keep_their_words_and_others_are_named_unexpected(latin_words):
    assert problem_text(AssistError("记录库打不开", "换一个文件夹")) == "记录库打不开"
    text = problem_text(RuntimeError("database disk image is malformed"))
    assert latin_words(text) == [] and "意外" in text


def test_review_export_to_a_folder_that_is_not_there(qtbot, demo, panel, tmp_path, monkeypatch, latin_words):
    from PySide6.QtWidgets import QFileDialog

    from assist.ui.review import ReviewWindow

    marks = []
    demo.demo_mark.connect(lambda i, m: marks.append(m))
    assert demo.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    win = ReviewWindow(demo.store, kb=demo.kb)
    qtbot.addWidget(win)
    win.show()
    win.refresh()
    assert win.open_session(panel.session_id)
    target = tmp_path / "没有这个文件夹" / "通话记录.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    win.export_dialog("markdown")  # written on a worker; the outcome comes back as a signal
    qtbot.waitUntil(win.notice.isVisible, timeout=15000)
    shown = win.notice.message.toolTip()
    assert shown.startswith("导出失败：") and str(target) in shown and latin_words(shown) == [], shown
