"""How a KB ``source`` field is cited to an agent: by document title.

A source reads ``《文档名》 § 章节（原文摘录）；《另一文档》 …``. The narrow panel
has room for the titles only (``document_titles``); the browser and review show
the whole text. Pure functions, any thread.
"""
from __future__ import annotations

import re

_TITLE = re.compile(r"《[^《》]+》")


def document_titles(source: str) -> tuple[str, ...]:
    """The distinct 《titles》 a source cites, in order of first mention."""
    seen: dict[str, None] = {}
    for m in _TITLE.finditer(source or ""):
        seen.setdefault(m.group(0), None)
    return tuple(seen)


def short_citation(source: str) -> str:
    """The titles joined for a one-line 依据 (the whole source when it names no title)."""
    titles = document_titles(source)
    return "".join(titles) if titles else (source or "").strip()
