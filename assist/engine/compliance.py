"""Compliance warnings for what the agent says.

Pattern rules are regexes over the utterance with spaces and punctuation
removed (so "坐 牢" from the recognizer still matches 坐牢), optionally also
over toneless pinyin (so 做牢 still matches zuo lao). A negation right before
the match (不会联系您的家人, 不要转账到个人账户) cancels it, because the
compliant way to say many things names the forbidden act.
Sequence rules watch the call as a whole: the agent should identify
themselves at the start and confirm who they speak to before giving details
of the debt; calls outside permitted hours get a warning at the first line.

Given a sentence encoder, final results are also judged by example
(``assist.engine.compliance_examples``): a line closer in meaning to a rule's
trigger examples than to anything compliant is flagged too, unless the rule's
explicit pass pattern (``unless``) matches or the line is a protective negation
(我们不会上门, 千万别转给个人). Either way may flag; only patterns find a span.
Partial results are checked by the patterns alone (cheap; the detector costs one
encoder call), so a line the detector catches is flagged when it is final.
Every warning carries its evidence: the matched words, or the nearest example.
Rules that declare ``parties`` apply only while that party is on the line (see
``assist.engine.party``); what a party rule may say depends on whether answers
can be heard at all (``_party_severity``).
One checker per call; runs on the engine's thread.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from assist.engine.compliance_examples import ExampleDetector, ExampleVerdict, long_enough
from assist.knowledge.patterns import PatternTimeout, SafePattern, compile_pattern
from assist.knowledge.patterns import search as safe_search
from assist.zh.text import Compact, compact, syllables
from assist.events import ComplianceWarning, PartyState, Utterance
from assist.knowledge.model import KnowledgeBase, Rule
from assist.semantics import Encoder

# A negation word, optionally followed by a modal, right before the matched act.
_MODAL = r"(担心|害怕|怕|影响|算|属于|构成|会|要|能|可能|得|是|用|需要|必|能够|应该|可以|去|来|再|让|有人|人|把|对|你|您|他|她|客户|任何人|别人|钱|款|要求|叫|请|逼)"
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

# A detector hit is vetoed when the agent says they will NOT do it or warns against it
# (我们不会上门 / 千万别转给个人 / 那肯定是骗子) ...
_PROTECTIVE = re.compile(
    r"(不会|不得|不再|绝不|决不|从不|从来不|没有权力|无权|不存在|(?<!要)不要(?!脸)|千万别|切勿|别信|别相信|不用担心|放心|"
    r"不建议|咨询律师|投诉|没有权限|以审批为准|合同(里|中|上)?(约定|写)|官方)")
# ... unless the negation is the condition of a threat (你再不还 我们不会放过你).
# Advice against fraud names the forbidden act in the third person (有人冒充我们让您交保证金 /
# 让您加私人微信转账的都是骗子); it vetoes pattern rules too, except insults (not negatable).
_ANTI_FRAUD = re.compile(r"有人(冒充|自称|假冒|让您|让你|要求您|要求你|叫您|叫你|说)|(都是|肯定是|一定是|多半是)(骗子|诈骗|骗人|假的)|谨防|防骗|警惕"
                         r"|(都|就|肯定|一定)不是(我们|官方|我司|公司)的?(官方)?(人员|工作人员|客服|员工|人)"
                         r"|(一定|千万|绝对|切记)(不要|别)(转|交|给|信|理|加|付|打|相信)")
# the same alternation on the linear-time engine, for long lines (plain alternatives: re2 finds a
# match exactly where re does)
_ANTI_FRAUD_RE2 = compile_pattern(_ANTI_FRAUD.pattern)
_CONDITIONAL = re.compile(r"(再不|不还|如果不|要是不|否则|不然|不配合|不接|不处理|不放过|不客气|别想|不让你)")


@dataclass
class _CompiledRule:
    rule: Rule
    any: list[SafePattern]
    all: list[SafePattern]
    unless: list[SafePattern]
    pinyin_any: list[SafePattern]
    # all of ``any`` in one linear-time pattern: most lines match no rule, and one search
    # tells so for a fraction of the cost of each pattern's finditer (None: not worth it or
    # not expressible on re2)
    screen: SafePattern | None = None


def _compile(rule: Rule) -> _CompiledRule:
    # rule patterns run on the linear-time engine (assist.knowledge.patterns), never on re
    m = rule.match
    screen = None
    if len(m.any) > 1:
        try:
            union = compile_pattern("|".join(f"(?:{p})" for p in m.any))
            screen = union if union.engine == "re2" else None
        except Exception:  # a union the engine refuses: check pattern by pattern
            screen = None
    return _CompiledRule(rule, [compile_pattern(p) for p in m.any], [compile_pattern(p) for p in m.all],
                         [compile_pattern(p) for p in m.unless], [compile_pattern(p) for p in m.pinyin_any],
                         screen)


class ComplianceChecker:
    def __init__(self, kb: KnowledgeBase, encoder: Encoder | None = None,
                 detector: ExampleDetector | None = None):
        """``encoder`` (or a ready ``detector``) turns on compliance by example; without, patterns only."""
        self.rules = [_compile(r) for r in kb.rules]
        self._by_id = {cr.rule.id: cr for cr in self.rules}
        self.detector = detector or (ExampleDetector(kb, encoder) if encoder is not None else None)
        # standalone (an encoder given here): the detector encodes each final line itself; attached
        # by the engine: it only judges the vector the engine hands over (none: patterns only)
        self._encode_lines = self.detector is not None
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
        if cr.rule.match.negatable and _anti_fraud(text):
            return None
        if not all(p.search(text) for p in cr.all):
            return None
        # the longest un-negated match of any pattern: the fullest account of what was said
        best: tuple[int, int] | None = None
        for p in (cr.any if cr.screen is None or cr.screen.search(text) is not None else ()):
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
                found = p.search(spoken)
                if found:
                    # map the pinyin match back to characters: count syllables before it
                    first = spoken[: found.start()].count(" ")
                    last = first + found.group().strip().count(" ") + 1
                    span = c.span_in_original(min(first, len(text) - 1), min(last, len(text)))
                    if cr.rule.match.negatable and _NEGATION_BEFORE.search(text[max(0, first - _NEGATION_REACH):first]):
                        continue
                    return self._warning(cr.rule, span, original)
        return None

    @staticmethod
    def _warning(rule: Rule, span: tuple[int, int], original: str, found_by: str = "pattern") -> ComplianceWarning:
        said = original[span[0]:span[1]]
        return ComplianceWarning(rule.id, rule.severity, rule.title, rule.message, rule.source,
                                 span, said, evidence=said, found_by=found_by)

    # -- by example ----------------------------------------------------------
    def attach(self, detector: ExampleDetector | None) -> None:
        """Judge by example from the next line on, with the vectors the engine passes to ``check``."""
        self.detector = detector
        self._encode_lines = False

    def _example_warning(self, verdict: ExampleVerdict | None, c: Compact, utt: Utterance) -> ComplianceWarning | None:
        """The detector's warning for this line, unless its verdict is below the margin or vetoed."""
        if verdict is None or not verdict.flagged:
            return None
        cr = self._by_id.get(verdict.rule_id)
        if cr is None or utt.speaker not in cr.rule.speakers or cr.rule.id in self.switched_off:
            return None
        try:
            if self.vetoed(cr, c.text):
                return None
        except PatternTimeout:  # its pass pattern could not be checked: do not flag on meaning alone
            return None
        rule = cr.rule
        return ComplianceWarning(rule.id, rule.severity, rule.title, rule.message, rule.source,
                                 (0, len(utt.text)), utt.text, evidence=verdict.example, found_by="example")

    @staticmethod
    def vetoed(cr: _CompiledRule, text: str) -> bool:
        """An explicit pass pattern of the rule, or a protective negation, overrules the detector."""
        if any(p.search(text) for p in cr.unless):
            return True
        if _anti_fraud(text):
            return True
        return bool(_PROTECTIVE.search(text)) and not _CONDITIONAL.search(text)


    # -- sequence rules ------------------------------------------------------
    def _sequence_warning(self, rule: Rule, c: Compact, utt: Utterance) -> ComplianceWarning | None:
        p = rule.params
        whole = (0, len(utt.text))
        if rule.kind == "call_hours":
            if self.call_started_at is None or self.agent_finals != 1 or not utt.final:
                return None
            start = _hhmm(p.get("start", "08:00"))
            end = _hhmm(p.get("end", "22:00"))
            t = self.call_started_at.hour * 60 + self.call_started_at.minute
            if start <= t < end:
                return None
            when = f"通话开始于 {self.call_started_at:%H:%M}"
            return ComplianceWarning(rule.id, rule.severity, rule.title, rule.message, rule.source, whole,
                                     when, evidence=when, found_by="sequence")
        if rule.kind == "self_identification":
            if safe_search(p.get("pattern", "我是|这里是"), c.text):
                self.identified_self = True
            if self.identified_self or self.agent_finals != int(p.get("within", 2)):
                return None
            return self._warning(rule, whole, utt.text, "sequence")
        if rule.kind == "identity_before_details":
            if safe_search(p.get("identity", "请问是|本人吗"), c.text):
                self.identity_confirmed = True
                return None
            if self.identity_confirmed:
                return None
            m = safe_search(p.get("details", "欠款|逾期"), c.text)
            if not m:
                return None
            return self._warning(rule, c.span_in_original(m.start(), m.end()), utt.text, "sequence")
        return None

    def check(self, utt: Utterance, query: np.ndarray | None = None, *, party: PartyState | None = None,
              answers_audible: bool = False) -> tuple[ComplianceWarning, ...]:
        """Warnings for one utterance of the call. ``query``: the line's sentence vector when the
        engine has already encoded it (else the detector encodes the line itself).

        ``party``: who is on the line before this utterance (None: not tracked, read as
        unknown). ``answers_audible``: the customer's answers reach the engine (a customer
        or mixed channel, or the customer has been heard), so an unconfirmed party is
        really unconfirmed rather than unheard.
        """
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
            if rule.parties and not party_applies(rule.parties, party):
                continue
            try:
                if rule.kind == "pattern":
                    w = self._pattern_warning(cr, c, utt.text)
                    if w and rule.parties:
                        w = _party_severity(w, party, answers_audible, utt.speaker)
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
        # The detector only on final agent lines the patterns left unflagged: one red warning a
        # line is enough, and a partial result or a line the patterns caught costs no encoder call.
        if (self.detector is not None and utt.final and utt.speaker in ("agent", "unknown")
                and not any(w.severity != "info" for w in out)):
            if query is not None:
                # the engine's vector of the line: the same length floor as ``nearest`` (潘先生, misheard
                # as 潘潘生, once came out nearest a fee example)
                verdict = self.detector.nearest_vector(query) if long_enough(utt.text) else None
            else:
                verdict = self.detector.nearest(utt.text) if self._encode_lines else None
            w = self._example_warning(verdict, c, utt)
            fired = self._by_id[w.rule_id].rule if w else None
            if w and fired is not None and fired.parties:
                # party rules judge by their words only: "sounds like talk about money" is not a
                # disclosure (请问刘伟在你们公司上班吗 came out near a third-party example)
                w = None
            if w:
                out.append(w)
        out.sort(key=lambda w: ("critical", "warning", "info").index(w.severity))
        return tuple(out)

    def audit(self, text: str, exclude: str | None = None,
              party: PartyState | None = None) -> tuple[ComplianceWarning, ...]:
        """Flags (warning or critical) for one line said by the agent outside any call: ``kb check``.

        ``exclude`` leaves that exemplar out of the detector's examples, so a script line or FAQ
        answer is judged by the others and not excused by being compliant by definition.
        ``party``: who the line is said to; rules for other parties are left out (a suggestion,
        said to the debtor, is judged without them; a party rule's examples with its party).
        """
        c = compact(text)
        utt = Utterance("agent", text)
        out = []
        for cr in self.rules:
            if cr.rule.kind != "pattern" or (cr.rule.parties and not (party and party_applies(cr.rule.parties, party))):
                continue
            try:
                w = self._pattern_warning(cr, c, text)
                if w and cr.rule.parties:
                    w = _party_severity(w, party, True, "agent")
            except PatternTimeout:
                w = _switched_off_warning(cr.rule)
            if w and w.severity != "info":
                out.append(w)
        if not out and self.detector is not None:
            w = self._example_warning(self.detector.nearest(text, exclude=exclude), c, utt)
            rule = self._by_id[w.rule_id].rule if w else None
            if w and rule is not None and rule.parties:
                w = _party_severity(w, party, True, "agent") if party and party_applies(rule.parties, party) else None
            if w and w.severity != "info":
                out.append(w)
        return tuple(out)


@functools.lru_cache(maxsize=8)
def _anti_fraud(text: str) -> bool:
    """Does compact text warn against fraud? Once per utterance, not once per negatable rule
    (a backtracking ``re`` pass over the line: a million characters cost a second each time)."""
    return _ANTI_FRAUD_RE2.search(text) is not None


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


def party_applies(parties: tuple[str, ...], party: PartyState | None) -> bool:
    """Does a rule declared for ``parties`` apply while ``party`` is on the line?"""
    kind = party.kind if party is not None else "unknown"
    if kind in parties:
        return True
    return kind == "third_party" and party is not None and (party.relation or "other") in parties


def _party_severity(w: ComplianceWarning, party: PartyState | None, answers_audible: bool,
                    speaker: str) -> ComplianceWarning:
    """Party rules speak only as loud as the evidence for the party allows.

    * Nobody confirmed and no answer can be heard (the agent's channel alone): the
      answer may well have been given off-channel, so a reminder (info), not a warning.
    * One mixed channel (speaker unknown): the line may be the other person's own words
      (他欠你们多少钱？), so never more than a warning.
    """
    kind = party.kind if party is not None else "unknown"
    severity = w.severity
    if kind in ("unknown", "refused") and not answers_audible:
        severity = "info"
    elif speaker == "unknown" and severity == "critical":
        severity = "warning"
    if severity == w.severity:
        return w
    return dataclasses.replace(w, severity=severity)
