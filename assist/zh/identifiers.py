"""Case numbers as agents paste them: loan (借据) and card numbers, normalised and masked.

A case id comes from another window (the CRM, a spreadsheet, a chat) with
spaces, dashes, full-width digits (１２３) or a trailing newline. ``normalise``
keeps what identifies the case (letters upper-cased, digits half-width) and
drops separators; ``mask`` shows just enough to recognise it on screen
(``6222********1234``). Pure functions, any thread.
"""
from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-_./·、，,:：]+")
MAX_LEN = 40


def normalise_case_id(text: str) -> str:
    """``' ６２２２ ０２１２-３４５６ '`` -> ``'622202123456'``; letters upper-case; at most 40 characters."""
    s = unicodedata.normalize("NFKC", text or "")
    s = _SEPARATORS.sub("", s).upper()
    return "".join(ch for ch in s if ch.isalnum() and ch.isascii())[:MAX_LEN]


def mask_case_id(case_id: str) -> str:
    """Keep the first four and last four characters of a long id, star the rest (short ids: the last two)."""
    if not case_id:
        return ""
    if len(case_id) > 8:
        return case_id[:4] + "*" * (len(case_id) - 8) + case_id[-4:]
    return "*" * max(0, len(case_id) - 2) + case_id[-2:]
