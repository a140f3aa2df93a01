"""Text made safe to show on a terminal or write into Markdown.

What a transcript, a note or a KB file contains reaches the agent's terminal
(``sessions show``, ``kb search``, ``listen``) and Markdown exports that get
opened in editors and previewers. An escape sequence in that text is an
instruction to the terminal, not text: it can clear the screen, rewrite the
window title, hide lines, or (OSC 52) put attacker text on the clipboard; bidi
overrides (U+202E) make a line read differently from what it holds. So every
such string goes through ``printable``: escape sequences, C0/C1 control
characters (except tab and newline) and bidi controls are removed, the rest is
kept as is. JSON output needs none of this (json.dumps escapes controls), and
CSV formula neutralising lives with the CSV export. Pure functions; any thread.
"""
from __future__ import annotations

import re

# Escape sequences first, each in its 7-bit form (ESC + a character) and its 8-bit C1 form
# (one code point in U+0080-U+009F, which terminals read the same way): CSI (ESC [ / \x9b)
# with its parameters and final byte; OSC (ESC ] / \x9d) up to BEL or ST (ESC \\ / \x9c);
# DCS, SOS, PM, APC strings (ESC P X ^ _ / \x90 \x98 \x9e \x9f) up to ST; other two-character
# escapes. Removing only the introducer would leave the parameters ("2J", "0;标题") on screen.
# A string's body holds no control character, so a scan stops at the next one: linear,
# and a stray C1 byte in mis-decoded text (U+009D from a curly quote read as Latin-1)
# loses only itself, not the rest of the line. Then any lone control character: C0 but
# tab/newline, DEL, C1, and the bidi embedding/override/isolate controls.
_UNSAFE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x00-\x1f\x7f-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x00-\x1f\x7f-\x9f]*(?:\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-_]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

# Every sequence above starts with one of these: text without any (nearly all of it) is returned
# after one character-class scan instead of the alternation tried at every position.
_ANY_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` without escape sequences and control characters (tab, and newline if ``newlines``, kept)."""
    if not isinstance(text, str) or not text:
        return text
    out = _UNSAFE.sub("", text) if _ANY_UNSAFE.search(text) else text
    return out if newlines else out.replace("\n", " ")


def printable_tree(value, *, newlines: bool = True):
    """A copy of nested dicts/lists with every string passed through ``printable``."""
    if isinstance(value, str):
        return printable(value, newlines=newlines)
    if isinstance(value, dict):
        return {k: printable_tree(v, newlines=newlines) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(printable_tree(v, newlines=newlines) for v in value)
    return value
