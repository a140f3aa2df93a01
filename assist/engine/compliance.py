"""Compliance warnings for what the agent says.

Pattern rules are regexes over the utterance with spaces and punctuation
removed (so "坐 牢" from the recognizer still matches 坐牢), optionally also
over toneless pinyin (so 做牢 still matches zuo lao). A negation right before
the match (不会联系您的家人, 不要转账到个人账户) cancels it, because the
compliant way to say many things names the forbidden act.
Sequence rules watch the call as a whole: the agent should identify
themselves at the start and confirm who they speak to before giving details
of the debt; calls outside permitted hours get a warning at the first line.
One checker per call; runs on the engine's thread.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from assist.engine.patterns import PatternTimeout, SafePattern, compile_pattern
from assist.engine.patterns import search as safe_search
from assist.zh.text import Compact, compact, syllables
from assist.events import ComplianceWarning, Utterance
from assist.knowledge.model import KnowledgeBase, Rule

# A negation word, optionally followed by a modal, right before the matched act.
_MODAL = r"(会|要|能|可能|得|是|用|需要|必|能够|应该|可以|去|来|再|让|有人|人|把|对|你|您|他|她|客户|任何人|别人|钱|款|要求|叫|请|逼)"
_NEGATION_BEFORE = re.compile(
    r"(不|没有?|别|勿|未|无需|不用|禁止|严禁|从不|绝不|并不|决不|不得|不可)"
    + _MODAL + r"{0,4}"
    + r"((向|对|跟|和|给|替)[^不没别]{0,10})?"  # 不会向您的家人朋友透露
    + _MODAL + r"{0,4}"
    + r"(转|打|汇|存|付|交|收|联系|找|告诉|通知|透露)?$"  # 不会让您转(到个人账户)
)
# How far back a negation can start: longer than any text _NEGATION_BEFORE can match,
# so looking only this far keeps the check O(1) per match instead of O(utterance).
_NEGATION_REACH = 80


@dataclass
class _CompiledRule:
    rule: Rule
    any: list[SafePattern]
    all: list[SafePattern]
    unless: list[SafePattern]
    pinyin_any: list[SafePattern]


def _compile(rule: Rule) -> _CompiledRule:
    # rule patterns run on the linear-time engine (assist.engine.patterns), never on re
    m = rule.match
    return _CompiledRule(rule, [compile_pattern(p) for p in m.any], [compile_pattern(p) for p in m.all],
                         [compile_pattern(p) for p in m.unless], [compile_pattern(p) for p in m.pinyin_any])


class ComplianceChecker:
    def __init__(self, kb: KnowledgeBase):
        self.rules = [_compile(r) for r in kb.rules]
        self.reset()

    def reset(self, call_started_at: datetime | None = None) -> None:
        self.call_started_at = call_started_at
        self.agent_finals = 0
        self.identified_self = False
        self.identity_confirmed = False
        self.fired_once: set[str] = set()  # sequence rules warn once per call
        self.switched_off: set[str] = set()  # rules whose pattern ran out of time this call

    # -- pattern rules -------------------------------------------------------
    def _pattern_warning(self, cr: _CompiledRule, c: Compact, original: str) -> ComplianceWarning | None:
        text = c.text
        if any(p.search(text) for p in cr.unless):
            return None
        if not all(p.search(text) for p in cr.all):
            return None
        # the longest un-negated match of any pattern: the fullest account of what was said
        best: tuple[int, int] | None = None
        for p in cr.any:
            for m in p.finditer(text):
                if m.end() == m.start():
                    continue
                if cr.rule.match.negatable and _NEGATION_BEFORE.search(text[max(0, m.start() - _NEGATION_REACH): m.start()]):
                    continue
                if best is None or m.end() - m.start() > best[1] - best[0]:
                    best = (m.start(), m.end())
        if best is not None:
            return self._warning(cr.rule, c.span_in_original(*best), original)
        if cr.pinyin_any:
            spoken = _spoken(text)
            for p in cr.pinyin_any:
                m = p.search(spoken)
                if m:
                    # map the pinyin match back to characters: count syllables before it
                    first = spoken[: m.start()].count(" ")
                    last = first + m.group().strip().count(" ") + 1
                    span = c.span_in_original(min(first, len(text) - 1), min(last, len(text)))
                    if cr.rule.match.negatable and _NEGATION_BEFORE.search(text[max(0, first - _NEGATION_REACH):first]):
                        continue
                    return self._warning(cr.rule, span, original)
        return None

    @staticmethod
    def _warning(rule: Rule, span: tuple[int, int], original: str) -> ComplianceWarning:
        return ComplianceWarning(rule.id, rule.severity, rule.title, rule.message, rule.source,
                                 span, original[span[0]:span[1]])

    # -- sequence rules ------------------------------------------------------
    def _sequence_warning(self, rule: Rule, c: Compact, utt: Utterance) -> ComplianceWarning | None:
        p = rule.params
        whole = (0, len(utt.text))
        if rule.kind == "call_hours":
            if self.call_started_at is None or self.agent_finals != 1 or not utt.final:
                return None
            start = _hhmm(p.get("start", "08:00"))
            end = _hhmm(p.get("end", "21:00"))
            t = self.call_started_at.hour * 60 + self.call_started_at.minute
            if start <= t < end:
                return None
            return ComplianceWarning(rule.id, rule.severity, rule.title, rule.message, rule.source, whole,
                                     f"通话开始于 {self.call_started_at:%H:%M}")
        if rule.kind == "self_identification":
            if safe_search(p.get("pattern", "我是|这里是"), c.text):
                self.identified_self = True
            if self.identified_self or self.agent_finals != int(p.get("within", 2)):
                return None
            return self._warning(rule, whole, utt.text)
        if rule.kind == "identity_before_details":
            if safe_search(p.get("identity", "请问是|本人吗"), c.text):
                self.identity_confirmed = True
                return None
            if self.identity_confirmed:
                return None
            m = safe_search(p.get("details", "欠款|逾期"), c.text)
            if not m:
                return None
            return self._warning(rule, c.span_in_original(m.start(), m.end()), utt.text)
        return None

    def check(self, utt: Utterance) -> tuple[ComplianceWarning, ...]:
        if not utt.text.strip():
            return ()
        c = compact(utt.text)
        if utt.final and utt.speaker in ("agent", "unknown"):
            self.agent_finals += 1
        out = []
        for cr in self.rules:
            rule = cr.rule
            if utt.speaker not in rule.speakers:
                continue
            if rule.id in self.switched_off:
                continue
            try:
                if rule.kind == "pattern":
                    w = self._pattern_warning(cr, c, utt.text)
                else:
                    if not utt.final or rule.id in self.fired_once:
                        continue
                    w = self._sequence_warning(rule, c, utt)
                    if w:
                        self.fired_once.add(rule.id)
            except PatternTimeout:
                self.switched_off.add(rule.id)
                w = _switched_off_warning(rule)
            if w:
                out.append(w)
        out.sort(key=lambda w: ("critical", "warning", "info").index(w.severity))
        return tuple(out)


@functools.lru_cache(maxsize=8)
def _spoken(text: str) -> str:
    """Toneless pinyin of compact text, once per utterance however many rules have pinyin patterns."""
    return " ".join(syllables(text, fold=False))


def _switched_off_warning(rule: Rule) -> ComplianceWarning:
    """Said once when a rule's pattern runs out of time: the rest of the call is checked without it."""
    note = f"规则「{rule.title}」的写法在这句话上检查超时，本次通话已暂停这条规则，其余规则照常检查。请组长检查该规则的写法。"
    return ComplianceWarning(rule.id, "info", "合规规则已暂停", note, rule.source, (0, 0), "")


def _hhmm(value: str) -> int:
    h, _, m = str(value).partition(":")
    return int(h) * 60 + int(m or 0)
