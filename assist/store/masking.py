"""Masking of identity numbers in transcripts: ID-card, phone and bank-card numbers.

A number is masked by replacing every digit but the last four with ``*``,
keeping separators and length, so warning spans (character offsets into the
utterance) stay valid and a reviewer can still tell numbers apart by their tail.

What counts as sensitive: 11 or more digits in a run, whatever they look like (Arabic,
full-width ０-９, Chinese numerals read digit by digit: 一三八…, 幺 for 1), with separators
between groups (spaces, dashes, dots as in 138.1234.5678), after any prefix (tel13812345678),
with the X of an ID card; that covers mobiles (11), ID cards (15 or 18), bank cards
(13-19) and landlines with area code; plus a landline written ``0AA(A)-NNNNNNN(N)``.
Amounts (一万二, 3000元) and dates are never 11 digits long in these calls, so they stay
readable. The same masking goes on utterances, warnings, notes, promise records, exports
and anything logged. Pure functions; any thread.
"""
from __future__ import annotations

import logging
import re

from assist import config

KEEP = 4
# What a digit can look like: Arabic, full-width, and Chinese numerals read digit by digit
# (幺 for 1, 两 for 2), as offline recognition and typists write them.
_DIGITS = "0-9０-９零〇一二三四五六七八九幺两"
# Between groups: spaces (also ideographic), dashes, dots (138.1234.5678), middle dots, underscores.
_SEPARATOR_CHARS = frozenset(" \u3000\t-‐‑–—.．·・_")
_SEPS = "".join(sorted(_SEPARATOR_CHARS)).replace("-", "\\-")  # a character class: escape the dash
_D = f"[{_DIGITS}]"
_SEP = f"[{_SEPS}]"
# A run of digits with at most two separator characters between any two, optionally ending in
# the X of an ID card (or 叉, as it is read aloud). Letters before it do not protect it:
# tel13812345678 and No.6222021234567890 are masked too.
_RUN = re.compile(rf"(?<![0-9０-９]){_D}(?:{_SEP}{{0,2}}{_D})*(?:{_SEP}{{0,2}}[XxＸｘ叉])?(?![0-9０-９])")
_LANDLINE = re.compile(r"(?<![0-9])0[0-9]{2,3}[ \-][0-9]{7,8}(?![0-9])")
MIN_DIGITS = 11  # mobile numbers have 11, ID cards 15 or 18, bank cards 13-19; amounts and dates fewer


def _mask_run(run: str) -> str:
    """Star every digit of ``run`` except the last KEEP (separators kept)."""
    positions = [i for i, ch in enumerate(run) if ch not in _SEPARATOR_CHARS]
    hide = set(positions[:-KEEP]) if len(positions) > KEEP else set()
    return "".join("*" if i in hide else ch for i, ch in enumerate(run))


def _count_digits(run: str) -> int:
    return sum(1 for ch in run if ch not in _SEPARATOR_CHARS)


def mask_text(text: str) -> str:
    """Return ``text`` with ID-card, phone and bank-card numbers masked (same length).

    Linear in the text (no nested repetition), so a megabyte of digits in a note is cheap.
    """
    if not text or not isinstance(text, str):
        return text

    def run(m: re.Match) -> str:
        found = m.group(0)
        return _mask_run(found) if _count_digits(found) >= MIN_DIGITS else found

    text = _RUN.sub(run, text)
    return _LANDLINE.sub(lambda m: _mask_run(m.group(0)), text)


def masking_enabled(default: bool = True) -> bool:
    """Storage masking unless ``ASSIST_MASK=0`` (or false/no/off) says otherwise (read in config)."""
    return config.masking_enabled(default)


def mask_log_records() -> None:
    """Mask every log message from now on, whoever logs it (a record factory, so it covers all loggers).

    Log files outlive calls and get attached to support tickets: a number that slips into a
    message (a failed write quoting its utterance) must not land there in full. Idempotent.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_numbers", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to logging's own error report
            return record
        record.msg, record.args = mask_text(message), None
        return record

    factory.masks_numbers = True  # type: ignore[attr-defined]  # a marker read back by install_log_masking
    logging.setLogRecordFactory(factory)
