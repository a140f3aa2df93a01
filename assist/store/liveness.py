"""Is the process that opened a session still running? Tells live sessions from crashed ones.

A session row records its recording process's pid. At start, a session still
``open`` whose process is gone was left by a crash (kill -9, power cut) and is
closed as interrupted; one whose process still runs (``assist listen`` in
another terminal while the review window opens the store) is left alone.
Any thread.
"""
from __future__ import annotations

import os
import sys


def pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: existence check only, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent still answers signal 0 (Linux only check)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _windows_pid_alive(pid: int) -> bool:
    # os.kill on Windows would terminate the process, so ask the kernel instead.
    import ctypes

    SYNCHRONIZE, WAIT_TIMEOUT = 0x00100000, 0x102
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(SYNCHRONIZE, False, pid)
    if not handle:
        return False
    try:
        return kernel32.WaitForSingleObject(handle, 0) == WAIT_TIMEOUT
    finally:
        kernel32.CloseHandle(handle)
