"""Masking of identity numbers in transcripts: ID-card, phone and bank-card numbers.

A number is masked by replacing every digit but the last four with ``*``,
keeping separators and length, so warning spans (character offsets into the
utterance) stay valid and a reviewer can still tell numbers apart by their tail.

What counts as sensitive, in Arabic digits (spaces or dashes between groups allowed):
- 11 or more digits in a run: mobile (1[3-9] + 9 digits), ID card (17 digits + digit or X),
  bank card (13-19 digits), landline with area code written without a break;
- a landline written ``0AA(A)-NNNNNNN(N)``;
and Chinese numerals spelled digit by digit (一三八…, 幺 for 1), 11 or more in a run,
as offline recognition often writes them. Amounts (一万二, 3000元) are never 11 digits
long in these calls, so they stay readable. Pure functions; any thread.
"""
from __future__ import annotations

import re

from assist import config

KEEP = 4
_CN_DIGITS = "零〇一二三四五六七八九幺两"
# digits, optionally in groups separated by one space or dash, optionally ending in X (ID card)
_ARABIC_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ \-]?[0-9])*(?:[ \-]?[Xx])?(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<![0-9])0[0-9]{2,3}[ \-][0-9]{7,8}(?![0-9])")
_CN_RUN = re.compile(rf"[{_CN_DIGITS}](?:\s?[{_CN_DIGITS}]){{10,}}")


def _mask_run(run: str) -> str:
    """Star every digit of ``run`` except the last KEEP (separators kept)."""
    positions = [i for i, ch in enumerate(run) if not ch.isspace() and ch != "-"]
    hide = set(positions[:-KEEP]) if len(positions) > KEEP else set()
    return "".join("*" if i in hide else ch for i, ch in enumerate(run))


def _count_digits(run: str) -> int:
    return sum(1 for ch in run if ch.isdigit() or ch in "Xx")


def mask_text(text: str) -> str:
    """Return ``text`` with ID-card, phone and bank-card numbers masked (same length)."""
    if not text:
        return text

    def arabic(m: re.Match) -> str:
        run = m.group(0)
        return _mask_run(run) if _count_digits(run) >= 11 else run

    text = _ARABIC_RUN.sub(arabic, text)
    text = _LANDLINE.sub(lambda m: _mask_run(m.group(0)), text)
    return _CN_RUN.sub(lambda m: _mask_run(m.group(0)), text)


def masking_enabled(default: bool = True) -> bool:
    """Storage masking unless ``ASSIST_MASK=0`` (or false/no/off) says otherwise (read in config)."""
    return config.masking_enabled(default)
