"""How the panel words a lost audio device for the agent (Qt-free wording, GUI thread callers).

The capture layer says *that* a channel's device stopped delivering (``DeviceProblem`` with
``kind="lost"``); the agent needs to read which device went (its name as the system lists it),
that the call goes on and on which channel, that what was said before is kept, and what to do.
"""
from __future__ import annotations

from collections.abc import Iterable

from assist.events import SPEAKER_LABELS

DEVICES_MENU_TEXT = "选择耳机和软电话输出"  # the panel's 更多 menu entry, named in the advice

# what each channel's device is to the agent
_ROLE = {"agent": "耳机", "customer": "软电话输出", "unknown": "输入设备"}


def device_lost_text(channel: str, name: str, channels: Iterable[str]) -> tuple[str, str]:
    """(message, fix) for the banner when ``channel``'s device ``name`` went; ``channels``: the call's channels."""
    role = _ROLE.get(channel, "输入设备")
    who = SPEAKER_LABELS.get(channel, "通话")
    named = f"「{name}」" if name else ""
    others = [SPEAKER_LABELS[c] for c in channels if c != channel and c in SPEAKER_LABELS]
    if others:
        goes_on = f"通话没有中断：{'、'.join(others)}声道照常识别，断开前说的话已保留。"
    else:
        goes_on = "通话没有中断，断开前说的话已保留；接回之前这一路的话不会被识别。"
    message = f"{who}{role}{named}断开了，这一路现在听不到声音。{goes_on}"
    fix = f"把{role}接回去，收音会自动恢复；也可以在“更多 → {DEVICES_MENU_TEXT}”里换一个设备（下一通电话起生效）。"
    return message, fix
