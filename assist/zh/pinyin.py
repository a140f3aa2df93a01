"""Pinyin for typing a search: every reading of a character, and how typed letters split.

Search by hand differs from matching what was heard (``text.syllables``, one
context-free key per character): a person types ``huankuan`` for 还款 and
``yinhang`` for 银行, so every reading of a polyphone (还 huan/hai, 行 hang/xing)
must count, and the letters must split on syllable boundaries (whole words:
``an`` is not found inside ``huan``). Readings come from pypinyin's character
dictionary (heteronyms, tones dropped, ü written v as on a keyboard). Pure
functions, any thread.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin import Style, pinyin

MAX_SPLITS = 64  # ways tried to read one run of letters before keeping the fewest-piece ones


def _toneless(reading: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
    return plain.replace("ü", "v").lower()


@lru_cache(maxsize=65536)
def readings(ch: str) -> tuple[str, ...]:
    """Every toneless reading of one character (``还`` -> hai, huan, …); a letter or digit reads as itself."""
    if not ("\u3400" <= ch <= "\u9fff"):
        return (ch.lower(),) if ch.isalnum() else ()
    out: dict[str, None] = {}
    for r in pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")[0] if ch else []:
        out.setdefault(_toneless(r).replace("u:", "v"), None)
    return tuple(out)


@lru_cache(maxsize=1)
def syllable_set() -> frozenset[str]:
    """All toneless syllables in pypinyin's dictionary (about 420)."""
    from pypinyin.pinyin_dict import pinyin_dict

    raw: set[str] = set()
    for value in pinyin_dict.values():
        raw.update(value.split(","))
    # Interjections written as bare consonants (嗯 n, 呣 m, 哼 hng) would split every word: leave them out.
    return frozenset(t for t in (_toneless(r) for r in raw if r) if any(v in t for v in "aeiouv"))


@lru_cache(maxsize=1)
def _prefix_set() -> frozenset[str]:
    return frozenset(s[:i] for s in syllable_set() for i in range(1, len(s) + 1))


@lru_cache(maxsize=1)
def _longer() -> frozenset[str]:
    """Syllables that begin a longer one (ku -> kuan)."""
    return frozenset(p for p in _prefix_set() if p in syllable_set() and any(
        s != p and s.startswith(p) for s in syllable_set()))


@lru_cache(maxsize=4096)
def splits(letters: str, last_may_be_partial: bool = True) -> tuple[tuple[str, ...], ...]:
    """Ways to read ``letters`` as syllables in the fewest pieces, as a pinyin keyboard does
    (``xian`` -> 先, not 西安; ``huankuan`` -> huan kuan, not hu an ku an).

    With ``last_may_be_partial`` the last piece may be the start of a syllable,
    marked with a trailing ``*``, so a word being typed (``huank``) already finds
    还款. An empty tuple: the letters are not pinyin.
    """
    sylls, prefixes = syllable_set(), _prefix_set()
    found: list[tuple[str, ...]] = []

    def walk(i: int, acc: tuple[str, ...]) -> None:
        if len(found) >= MAX_SPLITS:
            return
        if i == len(letters):
            found.append(acc)
            return
        for j in range(min(len(letters), i + 6), i, -1):
            piece = letters[i:j]
            if piece in sylls:
                walk(j, acc + (piece,))
        rest = letters[i:]
        # The syllable being typed: "ku" may become "kuan", so it is also read as a start.
        if last_may_be_partial and rest in prefixes and (rest not in sylls or rest in _longer()):
            found.append(acc + (rest + "*",))

    walk(0, ())
    if not found:
        return ()
    fewest = min(len(w) for w in found)
    return tuple(w for w in found if len(w) == fewest)
