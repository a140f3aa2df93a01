"""Rule patterns on a matcher that cannot hang the call.

A team lead writes compliance rules as regular expressions. Python's ``re``
backtracks: one careless pattern (``(a+)+$``) on one long utterance stalls the
engine thread for minutes, and with it the live panel. So rule patterns run on
google-re2 (``re2``), whose matching time is linear in the text whatever the
pattern. re2 refuses look-arounds and back-references; a pattern that needs
them runs on the ``regex`` module with a time budget instead, behind an re2
prefilter (the same pattern with its look-arounds removed, which matches a
superset): windows where the prefilter finds nothing are skipped, so the slow
engine only sees text that might match. bench/bench_patterns.py measures both.

Guarantees:
- re2 runs in time linear in the text, whatever the pattern; a look-around
  pattern searches text longer than ``WINDOW`` characters in overlapping
  windows, so one slow-engine search costs O(window) and a long utterance
  O(length); every match is taken from a window where it lies at least
  ``MARGIN`` characters from a cut, so ``^``, ``$`` and look-arounds see the
  real text; a match longer than ``OVERLAP - 2 * MARGIN`` characters, or a
  look-around reaching further than ``MARGIN``, can be missed there (real
  recognizer finals are far shorter than a window);
- at most ``MAX_MATCHES`` matches per pattern and utterance are reported;
- a look-around pattern that exceeds its budget raises ``PatternTimeout``; the
  compliance checker switches that rule off for the rest of the call.

It lives with the knowledge base, not the engine: the loader vets every pattern
when it reads the KB, and the compliance checker compiles them for matching.
``vet`` is what the loader (so ``kb check``, the panel and ``analyze``) runs: it refuses patterns neither engine accepts,
patterns that match empty text, and patterns too slow on adversarial text.
Pure functions and immutable objects; any thread.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import re2
import regex

WINDOW = 4000            # characters searched at once
OVERLAP = 400            # shared by neighbouring windows, so a match across an edge is still seen
MARGIN = 100             # matches this close to a window's cut are taken from the next window
MAX_MATCHES = 256        # per pattern and utterance: enough to pick the fullest match
BUDGET_S = 0.05          # per pattern per 10,000 characters searched (look-around patterns)
MAX_BUDGET_S = 0.5       # however long the utterance
VET_LENGTH = 10_000      # adversarial strings kb check tries every pattern on
VET_WALL_CAP_S = 1.0     # wall-clock cap on one vetting search (the verdict is on CPU time)
LONG_TEXT = 4096         # longer text is encoded once for all re2 searches of it (_utf8)
CLEAR_OVERRUN = 4        # CPU over this many budgets in one search: refused without a second try

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # re2 would print its own English error to stderr


class PatternError(ValueError):
    """A pattern neither engine can run; the message (Chinese) says why."""


class PatternTimeout(RuntimeError):
    """A look-around pattern used up its time budget on one utterance."""

    def __init__(self, source: str):
        super().__init__(source)
        self.source = source


@dataclass(frozen=True)
class Found:
    """One match, with the ``start()``/``end()``/``group()`` of ``re.Match``, in whole-text offsets."""

    _start: int
    _end: int
    _text: str

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self) -> str:
        return self._text


class _Utf8:
    """One long text as UTF-8 for re2, with the map between byte and character offsets."""

    def __init__(self, text: str):
        # surrogatepass: a lone surrogate is three bytes re2 never matches, not an exception
        self.data = text.encode("utf-8", "surrogatepass")
        self._n = len(text)
        self._starts: np.ndarray | None = None  # byte offset of each character, made when first asked

    def _char_starts(self) -> np.ndarray:
        if self._starts is None:
            b = np.frombuffer(self.data, dtype=np.uint8)
            self._starts = np.flatnonzero((b & 0xC0) != 0x80)  # every byte but continuation bytes
        return self._starts

    def byte_offset(self, char: int) -> int:
        if len(self.data) == self._n:  # ASCII: one byte a character
            return char
        return len(self.data) if char >= self._n else int(self._char_starts()[char])

    def char_offset(self, byte: int) -> int:
        if len(self.data) == self._n:
            return byte
        return int(np.searchsorted(self._char_starts(), byte))

    def found(self, span: tuple[int, int], text: str) -> Found:
        s, e = self.char_offset(span[0]), self.char_offset(span[1])
        return Found(s, e, text[s:e])


@functools.lru_cache(maxsize=4)
def _utf8(text: str) -> _Utf8:
    """The encoding of the utterance every rule pattern is searching (any thread: lru_cache locks)."""
    return _Utf8(text)


def _windows(n: int):
    """(start, end) of the windows covering ``range(n)``, each overlapping the next by OVERLAP."""
    if n <= WINDOW:
        yield 0, n
        return
    step = WINDOW - OVERLAP
    start = 0
    while True:
        end = min(n, start + WINDOW)
        yield start, end
        if end >= n:
            return
        start += step


def strip_lookarounds(pattern: str) -> str:
    """``pattern`` with every look-around group removed: it matches wherever ``pattern`` can.

    A look-around only ever forbids a match, so without it the pattern matches a
    superset; that is what the re2 prefilter needs.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[":
            j = _class_end(pattern, i)
            out.append(pattern[i:j])
            i = j
            continue
        if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            i = _group_end(pattern, i)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _class_end(p: str, i: int) -> int:
    """Index just past the character class starting at ``p[i] == '['``."""
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return min(j + 1, len(p))


def _group_end(p: str, i: int) -> int:
    """Index just past the group opening at ``p[i] == '('``."""
    depth, j = 0, i
    while j < len(p):
        ch = p[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j = _class_end(p, j)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return len(p)


class SafePattern:
    """One compiled rule pattern; ``search`` and ``finditer`` like ``re``, bounded in time."""

    def __init__(self, source: str):
        self.source = source
        self._full = None       # re2, when re2 runs the pattern itself
        self._prefilter = None  # re2 superset of a look-around pattern
        self._slow = None       # regex, for a look-around pattern
        try:
            self._full = re2.compile(source, _RE2_OPTIONS)
            self.engine = "re2"
            return
        except re2.error as e:
            if not _needs_backtracking(source):  # re2 refused it for another reason: so do we
                raise PatternError(f"正则表达式写法有误或过大（{_reason(e)}）") from None
        try:
            self._slow = regex.compile(source, regex.VERSION0)
        except (regex.error, OverflowError, RecursionError) as e:
            raise PatternError(f"正则表达式写法有误（{_reason(e)}）") from None
        self.engine = "regex"
        try:
            self._prefilter = re2.compile(strip_lookarounds(source), _RE2_OPTIONS)
        except re2.error as e:
            if not _BACKREF.search(source):  # too big for re2 even without its look-arounds
                raise PatternError(f"正则表达式写法有误或过大（{_reason(e)}）") from None
            self._prefilter = None  # back-references: the slow engine alone, on its budget

    def __repr__(self) -> str:
        return f"SafePattern({self.source!r}, engine={self.engine})"

    def _budget(self, n: int) -> float:
        return min(MAX_BUDGET_S, BUDGET_S * max(1.0, n / 10_000))

    def _iter(self, text: str, limit: int, budget: float | None = None):
        """Matches in whole-text offsets, left to right, without overlaps, at most ``limit``."""
        n = len(text)
        deadline = time.monotonic() + (self._budget(n) if budget is None else budget)  # slow engine only
        last_end = -1
        found = 0
        next_hit = -1  # where the prefilter next matches (long text, look-around patterns)
        # long text: re2 searches one UTF-8 encoding of it, shared by every pattern of the
        # utterance (the binding would encode the whole text again on every call)
        enc = _utf8(text) if n > LONG_TEXT else None
        # re2 is linear on any text: one pass over the whole of it (one UTF-8 encoding, not one a window)
        spans = [(0, n)] if self._full is not None else _windows(n)
        for a, b in spans:
            if self._full is not None:
                matches = (self._full.finditer(text) if enc is None
                           else (enc.found(m.span(), text) for m in self._full.finditer(enc.data)))
            else:
                if self._prefilter is not None and enc is not None:
                    # where the prefilter next matches, searched from here to the end: a match of the
                    # pattern starts where its look-around-free superset can, so windows before that
                    # point are skipped without a search each, and none are left once it finds nothing
                    if next_hit < a:
                        hit = self._prefilter.search(enc.data, enc.byte_offset(a))
                        next_hit = n + 1 if hit is None else enc.char_offset(hit.start())
                    if next_hit > n:
                        return
                    if next_hit >= b:
                        continue
                chunk = text[a:b]
                if self._prefilter is not None and enc is None and self._prefilter.search(chunk) is None:
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PatternTimeout(self.source)
                matches = self._slow_matches(chunk, left)
            for m in matches:
                s, e = m.start() + a, m.end() + a
                # near a window's cut ^, $ and look-arounds would see a false edge: such a
                # match is taken from the neighbouring window, where it lies inside
                if (a > 0 and s < a + MARGIN) or (b < n and e > b - MARGIN):
                    continue
                if s < last_end or (s == last_end and e == s):
                    continue  # seen in the previous window's overlap
                last_end = e
                yield Found(s, e, m.group())
                found += 1
                if found >= limit:
                    return

    def _slow_matches(self, chunk: str, timeout: float):
        assert self._slow is not None, "only patterns compiled for the slow engine get here"
        try:
            return list(self._slow.finditer(chunk, timeout=timeout))
        except TimeoutError:
            raise PatternTimeout(self.source) from None

    def search(self, text: str) -> Found | None:
        for m in self._iter(text, 1):
            return m
        return None

    def finditer(self, text: str) -> list[Found]:
        return list(self._iter(text, MAX_MATCHES))


_BACKREF = regex.compile(r"\\[1-9]|\(\?P=")


def _needs_backtracking(source: str) -> bool:
    """Whether the pattern uses what only a backtracking engine offers (look-arounds, back-references)."""
    return strip_lookarounds(source) != source or bool(_BACKREF.search(source))


# What re2 and the regex module say, in the words a team lead reads (both engines word their
# errors in English; the pattern fragment they name is kept, quoted, so the lead can find it).
_ENGINE_WORDS = (
    ("missing )", "缺少右括号“)”"),
    ("unexpected )", "多了一个右括号“)”"),
    ("unbalanced parenthesis", "多了一个右括号“)”"),
    ("missing ]", "方括号“[”没有闭合"),
    ("unterminated character set", "方括号“[”没有闭合"),
    ("trailing \\", "末尾多了一个反斜杠“\\”"),
    ("bad repetition operator", "重复符号（* + ? {}）连在一起用了"),
    ("multiple repeat", "重复符号（* + ? {}）连在一起用了"),
    ("no argument for repetition operator", "重复符号（* + ?）前面没有内容"),
    ("nothing to repeat", "重复符号（* + ?）前面没有内容"),
    ("invalid repetition size", "重复次数 {…} 无效或太大（最多 1000）"),
    ("min repeat greater than max repeat", "重复次数 {…} 的下限大于上限"),
    ("invalid escape sequence", "无法识别的反斜杠转义"),
    ("bad escape", "无法识别的反斜杠转义"),
    ("invalid character class range", "方括号里的范围无效（前一个字符要小于后一个）"),
    ("bad character range", "方括号里的范围无效（前一个字符要小于后一个）"),
    ("invalid character class", "方括号的写法无效"),
    ("invalid perl operator", "无法识别的 (?…) 写法"),
    ("unknown extension", "无法识别的 (?…) 写法"),
    ("invalid named capture group", "命名分组的写法无效"),
    ("bad character in group name", "命名分组的名字无效"),
    ("missing group name", "命名分组缺少名字"),
    ("unknown group", "引用了不存在的分组"),
    ("invalid group reference", "引用了不存在的分组"),
    ("invalid UTF-8", "含有无效的字符"),
    ("pattern too large", "规则写法太大，无法编译"),
    ("look-behind requires fixed-width pattern", "向后查看 (?<=…) 里的内容长度必须固定"),
)


def _reason(e: Exception) -> str:
    """Why an engine refused a pattern, in Chinese, with the place it names (fragment or position)."""
    if isinstance(e, RecursionError):
        return "括号嵌套太深"
    if isinstance(e, OverflowError):
        return "其中的数字太大"
    arg = e.args[0] if e.args else None
    msg = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else (getattr(e, "msg", None) or str(e) or "")
    what, _, fragment = msg.partition(": ")
    words = next((zh for en, zh in _ENGINE_WORDS if what.startswith(en)), "无法识别的写法")
    pos = getattr(e, "pos", None)
    if isinstance(pos, int):
        return f"{words}，第 {pos + 1} 个字符处"
    if len(fragment) > 40:
        fragment = fragment[:40] + "…"
    return f"{words}，在 {fragment!r} 处" if fragment else words


@functools.lru_cache(maxsize=4096)
def compile_pattern(source: str) -> SafePattern:
    """The pattern compiled for matching; raises PatternError (Chinese message) if unusable."""
    if not isinstance(source, str):
        raise PatternError("规则写法必须是文本")
    return SafePattern(source)


def search(source: str, text: str) -> Found | None:
    """``compile_pattern(source).search(text)``, for patterns given as settings."""
    return compile_pattern(source).search(text)


def _adversarial(source: str) -> list[str]:
    """Strings that make backtracking engines blow up: long runs of what the pattern names."""
    letters = [ch for ch in source if ch.isalnum()] or ["a"]
    picks = sorted(set(letters))[:8]
    n = VET_LENGTH
    out = ["a" * n, "a" * (n - 1) + "!", "1" * n, "1234567890" * (n // 10), "我" * n, "我 " * (n // 2)]
    for ch in picks:
        out.append(ch * (n - 1) + "!")
    literal = "".join(letters)[:40]
    if literal:
        out.append((literal * (n // len(literal) + 1))[:n])
    return out


@functools.lru_cache(maxsize=4096)
def vet(source: str, allow_empty: bool = False) -> str | None:
    """Why ``source`` may not be a rule pattern (Chinese), or None if it may.

    Refused: patterns neither engine compiles, patterns that match empty text
    (they would fire on every line) unless ``allow_empty``, and look-around
    patterns that run out of their budget (BUDGET_S per 10,000 characters) on a
    VET_LENGTH-character adversarial string. re2 patterns are not timed: re2 is
    linear whatever the pattern, and timing them on a busy machine would refuse
    good patterns at random.
    """
    try:
        p = compile_pattern(source)
    except PatternError as e:
        return str(e)
    if not allow_empty:
        try:
            if p.search("") is not None:
                return "能匹配空文本，会对每一句话报警"
        except PatternTimeout:
            pass
    if p.engine == "re2":
        return None  # linear in the text whatever the pattern: nothing to time
    for s in _adversarial(source):
        # refused if far over budget at once, or over it twice running (a belt to the CPU clock's
        # braces); a runaway pattern costs one wall cap, so kb check of a bad rule stays quick
        budget = p._budget(len(s))
        used = _cpu_used(p, s)
        if used > CLEAR_OVERRUN * budget or (used > budget and _cpu_used(p, s) > budget):
            return (f"在 {VET_LENGTH} 字的刁钻文本上超时，实际通话中可能卡住识别，"
                    "请改写（避免嵌套重复，如 (a+)+，或去掉前后条件 (?!…) (?<=…)）")
    return None


def _cpu_used(p: SafePattern, s: str) -> float:
    """The CPU seconds ``p`` uses to find all its matches in ``s`` (up to the wall-clock cap).

    Judged on this thread's CPU time, not the wall clock: the KB loads on a worker while
    the panel starts up beside it, and a pattern must not be refused because the GUI thread
    or another program had the CPU (on a loaded 2-core machine a good pattern lost its
    50 ms budget one start in two). The wall-clock cap still stops a runaway pattern.
    """
    started = time.thread_time()
    try:
        list(p._iter(s, MAX_MATCHES, budget=VET_WALL_CAP_S))
    except PatternTimeout:
        pass  # the cap: judged by the CPU time it used up to there
    return time.thread_time() - started
