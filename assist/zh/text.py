"""Normalising what offline recognition outputs, and turning it into sound keys.

vosk's Chinese models put spaces between words, drop punctuation, keep fillers
(呃 啊 那个) and confuse homophones (征信 -> 争信) and near-homophones
(展期 -> 张期). Matching therefore works on:

* ``compact``: the text with spaces and punctuation removed, with a map back to
  the original character offsets (compliance spans must point into what was said);
* ``syllables``: one key per character, its toneless pinyin folded by the
  "fuzzy pinyin" pairs that Chinese input methods offer for regional accents
  (z/zh, c/ch, s/sh, l/n, an/ang, en/eng, in/ing), so homophones and
  near-homophones share a key.

Hangul syllables are kept too, one key each: the only recognizer the tests and
benches can run here is vosk's Korean model, and its output must reach the
engine's real matching path (Chinese text never contains Hangul, so this
changes nothing for Mandarin calls).
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Only single characters are looked up (char_pinyin), so pypinyin's phrase dictionary is
# never consulted; without it the import takes 0.3 s and 22 MB instead of 1.0 s and 66 MB
# (measured on this machine under load). Must be set before pypinyin is first imported.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

from pypinyin import Style, pinyin  # noqa: E402

# Hesitation sounds and discourse fillers that carry no meaning for matching.
# "就是" is deliberately absent: "就是不还" is an objection.
_FILLER_RE = re.compile(r"[呃嗯啊哦唉诶哎额噢呀嘛呢吧]|那个|这个|就是说|然后呢|怎么说呢|我想问一下|想问一下|我想问问|请问一下|请问|问一下|你好|您好|麻烦你|麻烦您")
# Pronouns, particles, auxiliaries and question frames: every question has them.
# 还 is left out on purpose: here it is mostly 还款.
FUNCTION_CHARS = frozenset("我你您他她它们的地得了着过是吗呢吧啊呀就都也这那哪个些么什怎样会能可以要不没有在和与跟把被给让对从到很太嘛")
_DROP_FUNCTION_CHARS = {ord(ch): None for ch in FUNCTION_CHARS}
_KEEP = re.compile(r"[\u3400-\u9fff\uac00-\ud7a3A-Za-z0-9]")
_SYLLABLE_TOKEN = re.compile(r"[\u3400-\u9fff]|[\uac00-\ud7a3]|[a-z0-9]+")


@dataclass(frozen=True, eq=False)
class Compact:
    """Text with only letters, digits, CJK and Hangul kept; ``offsets[i]`` is the original index of ``text[i]``.

    ``offsets`` is a tuple, or for long text a numpy array (a million Python ints cost more
    than the whole of ``compact``); only ``span_in_original`` reads it.
    """

    text: str
    offsets: Sequence[int] | np.ndarray

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        if len(self.offsets) == 0 or start >= end:
            return (0, 0)
        return (int(self.offsets[start]), int(self.offsets[end - 1]) + 1)


_KEEP_RUN = re.compile(r"[\u3400-\u9fff\uac00-\ud7a3a-z0-9]+")


@lru_cache(maxsize=4)
def compact(text: str) -> Compact:
    """Drop spaces and punctuation (full- and half-width), lower-case Latin letters.

    Linear, and fast on the common case (text already NFKC-normal, as recognizer
    output is): a run-wise scan instead of normalising character by character,
    so a pathological million-character line costs well under a second.
    The last few results are kept (``Compact`` is immutable): FAQ matching, party
    tracking and compliance each compact the same utterance, and on a runaway line
    that would be the same linear pass several times over. Any thread (lru_cache locks).
    """
    if len(text) > 512:
        return _compact_long(text)
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        low = text.lower()
        if len(low) == len(text):  # no character lower-cases to two (then: the careful way below)
            kept: list[str] = []
            offsets: list[int] = []
            for m in _KEEP_RUN.finditer(low):
                kept.append(m.group())
                offsets.extend(range(m.start(), m.end()))
            return Compact("".join(kept), tuple(offsets))
    chars, offsets = [], []
    for i, ch in enumerate(text):
        ch = unicodedata.normalize("NFKC", ch).lower()
        if len(ch) == 1 and _KEEP.match(ch):
            chars.append(ch)
            offsets.append(i)
    return Compact("".join(chars), tuple(offsets))


def compact_text(text: str) -> str:
    """``compact(text).text`` without the offsets, normalising the whole text at once.

    For indexing thousands of texts (the KB browser's search): several times faster
    than ``compact`` on text with full-width punctuation. Whole-text NFKC may differ
    from ``compact``'s character-by-character form on combining marks and on
    characters that expand (㈱ -> (株)); use one of the two for both sides of a match.
    """
    return "".join(_KEEP_RUN.findall(unicodedata.normalize("NFKC", text).lower()))


def _compact_long(text: str) -> Compact:
    """``compact`` of long text without a Python step per character: each distinct character
    is normalised once (NFKC, lower case; one that expands or is not kept marks a drop),
    ``str.translate`` applies that in C, and numpy finds what is kept. The same result as
    the character-by-character way below (tests/engine/test_text_long.py)."""
    table: dict[int, str] = {}
    for ch in set(text):
        n = unicodedata.normalize("NFKC", ch).lower()
        if len(n) != 1 or not _KEEP.match(n):
            table[ord(ch)] = "\x00"  # dropped (NUL itself is never kept)
        elif n != ch:
            table[ord(ch)] = n
    norm = text.translate(table) if table else text
    cps = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    keep = cps != 0
    return Compact(cps[keep].tobytes().decode("utf-32-le"), np.flatnonzero(keep))


def content_chars(text: str) -> int:
    """How many characters of compact text carry content (not fillers, not function words)."""
    return len(strip_fillers(text).translate(_DROP_FUNCTION_CHARS))  # str.translate: linear, in C


def strip_fillers(text: str) -> str:
    """Compact text without fillers, for FAQ and stage matching (not for compliance)."""
    return _FILLER_RE.sub("", text)


_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


@lru_cache(maxsize=65536)
def fold_syllable(syllable: str) -> str:
    """Fold a toneless pinyin syllable to its fuzzy-pinyin key (zhang -> zan, qing -> qin)."""
    s = syllable
    for a, b in _FUZZY_INITIALS:
        if s.startswith(a):
            s = b + s[len(a):]
            break
    for a, b in _FUZZY_FINALS:
        if s.endswith(a):
            s = s[: -len(a)] + b
            break
    return s


@lru_cache(maxsize=65536)
def char_pinyin(ch: str) -> str:
    """The toneless pinyin of one character, its most common reading, without context.

    Context-free on purpose: the same character always gets the same key in the
    knowledge base and in what was heard, which is what matching needs.
    """
    return pinyin(ch, style=Style.NORMAL, heteronym=False, errors="default")[0][0]


# Above this length syllables() looks each distinct character up once and lets str.translate
# and str.split (in C) do the per-character work: the same keys, without a Python step per
# character (a million characters: ~2 s the plain way). Short text keeps the plain loop.
_TRANSLATE_FROM = 2048


def syllables(text: str, fold: bool = True) -> list[str]:
    """Pinyin of compact text: one syllable per CJK character, one token per Latin/digit run.

    With ``fold`` (the default) syllables are fuzzy-pinyin keys, for matching;
    without, plain toneless pinyin, for search and pinyin rule patterns.
    """
    if len(text) > _TRANSLATE_FROM:
        return _syllables_long(text, fold)
    # one token per CJK character or Latin/digit run, found by the regex engine (linear, in C)
    keys: list[str] = []
    for tok in _SYLLABLE_TOKEN.findall(text):
        if "\u3400" <= tok[0] <= "\u9fff":
            syl = char_pinyin(tok)
            keys.append(fold_syllable(syl) if fold else syl)
        else:
            keys.append(tok)
    return keys


def _syllables_long(text: str, fold: bool) -> list[str]:
    """``syllables`` by translation: each CJK or Hangul character becomes its key between
    spaces, Latin/digit runs stay as they are, and splitting on spaces gives the tokens.
    Anything else (not in compact text, but callers may pass it) is dropped, as the token
    regex drops it."""
    distinct = set(text)
    if min(distinct) >= "\u3400" and max(distinct) <= "\ud7a3" and not any("\u9fff" < ch < "\uac00" for ch in distinct):
        return _syllables_cjk(text, distinct, fold)
    table: dict[int, str] = {}
    for ch in distinct:
        if "\u3400" <= ch <= "\u9fff":
            syl = char_pinyin(ch)
            table[ord(ch)] = f" {fold_syllable(syl) if fold else syl} "
        elif "\uac00" <= ch <= "\ud7a3":
            table[ord(ch)] = f" {ch} "
        elif not ("a" <= ch <= "z" or "0" <= ch <= "9"):
            table[ord(ch)] = " "
    return text.translate(table).split()


def _syllables_cjk(text: str, distinct: set[str], fold: bool) -> list[str]:
    """``syllables`` of text that is all CJK and Hangul (one token a character, as compact text of
    speech mostly is): each distinct character's key in a table over the code points, looked up
    for the whole text at once by numpy."""
    keys = np.empty(0xD7A3 - 0x3400 + 1, dtype=object)
    for ch in distinct:
        if ch <= "\u9fff":
            syl = char_pinyin(ch)
            keys[ord(ch) - 0x3400] = fold_syllable(syl) if fold else syl
        else:
            keys[ord(ch) - 0x3400] = ch
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    out: list[str] = keys[cps - 0x3400].tolist()
    return out
