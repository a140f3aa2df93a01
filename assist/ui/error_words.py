"""An exception as the agent reads it: Chinese, never a library's English text (GUI thread callers).

Our own errors (``AssistError``) already say what is wrong in Chinese; the operating system's
(``OSError``) are worded by their error number, with the file they concern; anything else is
logged with its details and named as an unexpected error. Used where a window catches a failure
it cannot foresee the type of (saving an export, reading the session list).
"""
from __future__ import annotations

import errno
import logging

from assist.errors import AssistError

log = logging.getLogger(__name__)

_OS_REASONS = {
    errno.EACCES: "没有写入或读取这个位置的权限", errno.EPERM: "没有写入或读取这个位置的权限",
    errno.ENOSPC: "磁盘已满", errno.EDQUOT: "磁盘配额已用完", errno.EROFS: "这个位置是只读的",
    errno.ENOENT: "文件或文件夹不存在", errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一段不是文件夹", errno.ENAMETOOLONG: "文件名太长", errno.EIO: "磁盘读写出错",
}


def problem_text(e: BaseException) -> str:
    """What went wrong, in Chinese (the English detail goes to the log)."""
    if isinstance(e, AssistError):
        return e.message
    if isinstance(e, OSError):
        reason = _OS_REASONS.get(e.errno or 0, "系统拒绝了这次读写")
        return f"{reason}（{e.filename}）" if e.filename else reason
    log.warning("unexpected error shown to the user as such: %r", e)
    return "出现了意外错误（详情已写入日志）"
