"""Turning text into matching keys, with the knowledge base's synonym groups.

Customers say the same thing in different words (征信 / 信用记录 / 黑名单,
手续费 / 服务费 / 收费). ``kb/lexicon.yaml`` lists such groups, and every
phrase, in the KB and in what was heard, has each member replaced by its
group's first word before matching. The replacement works on fuzzy-pinyin
keys, not characters, so a homophone error inside a synonym (争信) is
replaced too. Longest members win (提前还清 before 还清).
"""
from __future__ import annotations

from assist.zh.text import compact, strip_fillers, syllables

# FAQ and stage matching look at the last MATCH_CHARS characters of an utterance: a real
# recognizer final is far shorter, and matching cost grows with the keys, so a runaway
# line (a million characters pasted into a transcript) must not stall the call.
# Compliance checks the whole line (in windows, assist.knowledge.patterns).
MATCH_CHARS = 600


class Lexicon:
    def __init__(self, groups: tuple[tuple[str, ...], ...] = ()):
        self._map: dict[tuple[str, ...], tuple[str, ...]] = {}
        for group in groups:
            if not group:
                continue
            canon = tuple(syllables(compact(group[0]).text))
            for word in group:
                key = tuple(syllables(compact(word).text))
                if key and key not in self._map:
                    self._map[key] = canon
        self._longest = max((len(k) for k in self._map), default=0)
        # what the keys depend on, for caches of anything built from them (engine/index_cache)
        self.fingerprint = "|".join(f"{' '.join(k)}>{' '.join(v)}" for k, v in sorted(self._map.items()))

    def keys(self, text: str) -> list[str]:
        """Matching keys for text: compact, fillers dropped, fuzzy pinyin, synonyms folded."""
        said = compact(text).text
        if len(said) > MATCH_CHARS:
            said = said[-MATCH_CHARS:]
        raw = syllables(strip_fillers(said))
        if not self._map:
            return raw
        out: list[str] = []
        i = 0
        while i < len(raw):
            for n in range(min(self._longest, len(raw) - i), 0, -1):
                canon = self._map.get(tuple(raw[i:i + n]))
                if canon is not None:
                    out.extend(canon)
                    i += n
                    break
            else:
                out.append(raw[i])
                i += 1
        return out
