"""The console view of a live call for ``assist listen`` / ``assist replay``.

A ``rich.live.Live`` display, not a log dump: the transcript with each
growing partial shown grey and replaced in place by its final, the latest FAQ
answers, the current script stage with the next line to say, red compliance
warnings and device problems, and a level meter per channel.

Everything shown comes from outside (recognized speech, KB answers and
lines, device and store messages) and goes through ``assist.printable`` as it
arrives: an escape sequence in a KB answer or a transcript is an instruction to
the terminal, not text, and rich passes it through untouched.

``TerminalView`` is a ``Call`` subscriber: ``__call__`` runs in the recognizer
and capture threads and only updates state under a lock; ``render`` runs in
rich's refresh thread and reads that state under the same lock.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from assist.events import (SPEAKER_LABELS, AssistResult, AudioGap, AudioLevel, CallEnded, CallStarted, CardWithdrawn,
                           DeviceProblem, StoreProblem)
from assist.printable import printable

_SPEAKER_STYLE = {"agent": "cyan", "customer": "magenta", "unknown": "white"}
_SPEAKER_LABEL = SPEAKER_LABELS


# How much of one outside text the view shows: a runaway line (a million characters from a stuck
# recognizer or a hostile transcript) would cost rich seconds to wrap on every refresh. The
# transcript shows the end of a line (the newest words), the rest its start; the store keeps all.
SHOWN_CHARS = 400
_CUT = "…"


def _line(text: str, limit: int = SHOWN_CHARS, *, tail: bool = False) -> str:
    """Outside text for one line of the view: no escape sequences, controls or line breaks, at most
    ``limit`` characters (its start, or with ``tail`` its end, marked with an ellipsis where cut)."""
    text = text or ""
    if len(text) <= limit:
        return printable(text, newlines=False)
    # cut with a margin first (the sanitiser is linear, but a million characters on every partial
    # is still work for the recognizer thread), sanitise, then cut to the limit
    if tail:
        return _CUT + printable(text[-(limit + 64):], newlines=False)[-limit:]
    return printable(text[:limit + 64], newlines=False)[:limit] + _CUT


def _answer(text: str) -> str:
    """An FAQ answer keeps its line breaks (it is read out), within a few lines' worth of characters."""
    text = text or ""
    if len(text) <= 4 * SHOWN_CHARS:
        return printable(text)
    return printable(text[:4 * SHOWN_CHARS + 64])[:4 * SHOWN_CHARS] + _CUT


class TerminalView:
    def __init__(self, console: Console | None = None, max_lines: int = 12):
        self.console = console or Console()
        self._max_lines = max_lines
        self._lock = threading.Lock()
        self._segments: OrderedDict[str, tuple[str, str, bool, float | None]] = OrderedDict()
        self._faq: tuple[tuple[str, str, str], ...] = ()  # (faq id, question, answer), made printable
        self._stage: tuple[int, str] | None = None  # (index, title)
        self._next_line = ""
        self._warnings: list[tuple[str, str]] = []  # (style, text)
        self._levels: dict[str, float] = {}
        self._session = ""
        self._started: float | None = None
        self._ended = False

    # -- worker threads -------------------------------------------------------------
    def __call__(self, event: object) -> None:
        with self._lock:
            if isinstance(event, AssistResult):
                self._on_result(event)
            elif isinstance(event, AudioLevel):
                self._levels[event.channel] = event.rms
            elif isinstance(event, CardWithdrawn) and event.kind == "faq" and not event.replaced_by:
                self._faq = tuple(h for h in self._faq if h[0] != _line(event.key))
            elif isinstance(event, DeviceProblem):
                style = "green" if event.recovered else "bold red"
                fix = f" — {event.fix}" if event.fix else ""
                self._warn(style, _line(f"{event.message}{fix}"))
            elif isinstance(event, AudioGap):
                who = _SPEAKER_LABEL.get(event.channel, event.channel)
                self._warn("yellow", _line(f"{who}声道 {event.start:.1f}–{event.end:.1f} 秒没有声音（{event.reason}）"))
            elif isinstance(event, StoreProblem):
                self._warn("green" if event.recovered else "bold red", _line(f"通话记录：{event.message}"))
            elif isinstance(event, CallStarted):
                self._session, self._started = event.session_id, time.monotonic()
            elif isinstance(event, CallEnded):
                self._ended = True

    def _warn(self, style: str, text: str) -> None:
        self._warnings.append((style, text))
        del self._warnings[:-4]

    def _on_result(self, result: AssistResult) -> None:
        u = result.utterance
        key = u.segment or f"{u.speaker}-{id(u)}"
        if u.final and not u.text:
            self._segments.pop(key, None)  # a partial that came to nothing
        else:
            self._segments[key] = (u.speaker, _line(u.text, tail=True), u.final, u.start)
            self._segments.move_to_end(key)
        while len(self._segments) > self._max_lines:
            self._segments.popitem(last=False)
        shown = tuple((_line(h.faq_id), _line(h.question), _answer(h.answer)) for h in result.faq if h.shown)
        if shown:
            self._faq = shown[:2]
        if result.stage is not None:
            self._stage = (result.stage.index, _line(result.stage.title))
        if result.suggestions:
            self._next_line = _line(result.suggestions[0].text)
        for w in result.warnings:
            if u.final:
                self._warn("bold red", f"⚠ {_line(w.title)}：“{_line(w.said, 80)}” → {_line(w.message)}")

    # -- rich's refresh thread ---------------------------------------------------------
    def render(self):
        with self._lock:
            transcript = Text()
            for speaker, text, final, start in self._segments.values():
                stamp = f"{start:6.1f}s " if start is not None else "        "
                transcript.append(stamp, style="dim")
                transcript.append(f"{_SPEAKER_LABEL.get(speaker, speaker)} ", style=_SPEAKER_STYLE.get(speaker, ""))
                transcript.append(text + "\n", style="" if final else "grey50 italic")
            if not self._segments:
                transcript.append("正在收听…", style="dim")
            side = Table.grid(padding=(0, 1))
            if self._stage is not None:
                side.add_row(Text(f"阶段 {self._stage[0]}：{self._stage[1]}", style="bold"))
            if self._next_line:
                side.add_row(Text(f"下一句：{self._next_line}", style="green"))
            for _, question, answer in self._faq:
                side.add_row(Text(f"问答 {question}", style="bold yellow"))
                side.add_row(Text(f"  {answer}"))
            levels = Text()
            for ch, rms in sorted(self._levels.items()):
                bar = "█" * min(20, int(rms * 60))
                levels.append(f"{_SPEAKER_LABEL.get(ch, ch)} {bar:<20} ", style=_SPEAKER_STYLE.get(ch, ""))
            warnings = [Text(text, style=style) for style, text in self._warnings]
            elapsed = time.monotonic() - self._started if self._started else 0.0
            title = (f"坐席助手 — 通话 {self._session} — {elapsed:5.0f} 秒"
                     + ("（已结束）" if self._ended else "（按 Ctrl+C 结束通话）"))
            parts: list = [Panel(transcript, title="通话文字", border_style="blue")]
            if side.row_count:
                parts.append(Panel(side, title="话术 / 问答", border_style="green"))
            if warnings:
                parts.append(Panel(Group(*warnings), title="合规警告", border_style="red"))
            parts.append(levels)
            return Panel(Group(*parts), title=title)

    def live(self) -> Live:
        """A ``Live`` display to use as a context manager around the call (main thread)."""
        return Live(get_renderable=self.render, console=self.console, refresh_per_second=6,
                    transient=False, redirect_stderr=False)
