"""Numbers as people say them in Chinese calls: 一万二, 两千五, 1.5万, 3000, 十五.

A thin layer over cn2an (PyPI, MIT), which does the numeral grammar; this adds
the colloquial forms recognizers produce (两, 俩, 仨, trailing 块/元) and returns
None instead of raising for things that are not numbers. Pure; any thread.
"""
from __future__ import annotations

import re
import warnings

import cn2an

CN_DIGIT_CHARS = "零〇一二两三四五六七八九十百千万亿"
_COLLOQUIAL = str.maketrans({"俩": "两", "仨": "三", "〇": "零"})
_UNIT_SUFFIX = re.compile(r"(块钱|块|元|圆|rmb|RMB)$")


def parse_number(text: str) -> float | None:
    """The value of a numeral in Arabic or Chinese digits (or a mix like 1.5万); None if not a number."""
    s = _UNIT_SUFFIX.sub("", (text or "").strip().translate(_COLLOQUIAL))
    if not s:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([十百千万亿]+)", s)
    if m:  # 1.5万, 3千: cn2an's smart mode handles most, but not every mixed form
        scale = 1.0
        for unit in m.group(2):
            scale *= {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}[unit]
        return float(m.group(1)) * scale
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cn2an warns on input it then rejects anyway
            return float(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None
