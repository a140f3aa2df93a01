"""The knowledge base checked against its own compliance rules (``assist kb check``).

Two questions, each answered with file and line:
- do the rules do what their examples say? Every pattern rule's trigger examples must be
  flagged and its pass examples must not be, by the same checker the call uses (patterns,
  and by example when an encoder is given);
- does the product ever tell the agent to say something its rules forbid? Every script line,
  opening and closing, every FAQ answer, sentence by sentence, and the line a rule's message
  tells the agent to say instead (the quote after a colon: 请只说：“……”) go through the checker.
  A suggestion is judged by the other examples, not excused for being compliant by
  definition (it is left out of the detector's compliant side while it is judged).
- said to whom? A line is judged with the person it is meant for on the line: a playbook,
  stage or FAQ may declare ``parties:`` (a playbook for relatives and colleagues says
  [third_party]); an FAQ attached only to such playbooks inherits them; a rule's suggested
  line is said to the parties the rule is for. "third_party" means every kind of third
  party (family, colleague, friend, wrong number, other), so a rule for one relation is
  checked too. Without ``parties:`` a line is said to the debtor (party rules left out).
Thread: whichever runs ``kb check``; builds its own checker.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assist.engine.compliance import ComplianceChecker
from assist.engine.compliance_examples import ExampleDetector, sentences
from assist.events import PARTY_KINDS, PARTY_RELATIONS, PartyState
from assist.knowledge.model import KnowledgeBase
from assist.semantics import Encoder


@dataclass(frozen=True)
class AuditFinding:
    file: str
    line: int
    message: str  # Chinese: what is wrong and what to do

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class _Lines:
    """Finds the line of a quoted text in a KB file (the model keeps only the entry's line)."""

    def __init__(self, kb_root: str):
        self.base = Path(kb_root).parent if kb_root else Path(".")
        self._cache: dict[str, list[str]] = {}

    def find(self, rel: str, text: str, start: int = 1) -> int:
        if rel not in self._cache:
            try:
                self._cache[rel] = (self.base / rel).read_text(encoding="utf-8").splitlines()
            except OSError:
                self._cache[rel] = []
        lines = self._cache[rel]
        for probe in (text, text[:16], text[:8]):
            for n in range(max(start, 1), len(lines) + 1):
                if probe and probe in lines[n - 1]:
                    return n
        return start


def _names(warnings) -> str:
    return "、".join(f"“{w.title}”" for w in warnings)


def _fix(warnings, note_field: str) -> str:
    """What to do about a flagged suggestion: rewrite it, or, when only its meaning is close to a
    violation, say the compliant meaning once more in kb/compliant_lines.yaml."""
    if all(w.found_by == "example" for w in warnings):
        like = "、".join(f"“{w.evidence}”" for w in warnings)
        return (f"它的意思接近违规示例{like}。如果这句是合规的，请在 compliant_lines.yaml 里加一句意思相近的合规说法；"
                f"否则请改写，并在 {note_field} 里说明改了什么。")
    return f"坐席照着念就会违规，请改写成合规的说法，并在 {note_field} 里说明改了什么。"


def first_party(rule) -> PartyState | None:
    """The first party a rule names, as a party state (None: the rule applies to anyone)."""
    if not rule.parties:
        return None
    name = rule.parties[0]
    return PartyState(name) if name in PARTY_KINDS else PartyState("third_party", name)


# the line a rule's message tells the agent to say instead: a quote right after a colon
# (不得说“后果自负” quotes what not to say, with no colon, and is left alone)
_SUGGESTED = re.compile(r"[：:]\s*“([^”]+)”")


def said_to(parties: tuple[str, ...]) -> list[PartyState | None]:
    """Who a line declared for ``parties`` may be said to, as party states ([None]: the debtor,
    no party rule applies). "third_party" stands for every relation, so rules for one are checked."""
    if not parties:
        return [None]
    out: list[PartyState | None] = []
    for name in parties:
        if name == "third_party":
            out += [PartyState("third_party", rel) for rel in PARTY_RELATIONS]
        elif name in PARTY_KINDS:
            out.append(PartyState(name))  # type: ignore[arg-type]  # checked against PARTY_KINDS
        else:
            out.append(PartyState("third_party", name))
    return out


def _listener(parties: tuple[str, ...]) -> str:
    """How a finding names who the line is said to (Chinese)."""
    if not parties:
        return ""
    names = {"unknown": "身份未确认的接听人", "debtor": "客户本人", "refused": "不肯确认身份的接听人",
             "third_party": "第三人"}
    shown = [names.get(p) or PartyState("third_party", p).label for p in parties]
    return "（对" + "、".join(dict.fromkeys(shown)) + "说）"


def _judge(checker: ComplianceChecker, sentence: str, parties: tuple[str, ...]):
    """The warnings a sentence earns with each listener it is meant for, one per rule."""
    seen: dict[str, object] = {}
    for party in said_to(parties):
        for w in checker.audit(sentence, exclude=sentence, party=party):
            seen.setdefault(w.rule_id, w)
    return tuple(seen.values())


def _faq_parties(kb: KnowledgeBase, faq) -> tuple[str, ...]:
    """An FAQ's own parties, else those shared by all its playbooks (if each declares some)."""
    if faq.parties:
        return faq.parties
    books = [kb.playbooks.get(pid) for pid in faq.playbooks]
    if books and all(b is not None and b.parties for b in books):
        return tuple(dict.fromkeys(p for b in books if b is not None for p in b.parties))
    return ()


def audit_kb(kb: KnowledgeBase, encoder: Encoder | None = None,
             detector: ExampleDetector | None = None) -> list[AuditFinding]:
    """Every rule example that misbehaves and every suggestion a rule flags (errors)."""
    checker = ComplianceChecker(kb, encoder, detector)
    where = _Lines(kb.root)
    out: list[AuditFinding] = []
    for rule in kb.rules:
        if rule.kind != "pattern":
            continue
        party = first_party(rule)  # a party rule's examples are said with its party on the line
        for text in rule.triggers:
            got = checker.audit(text, party=party)
            if not any(w.rule_id == rule.id for w in got):
                also = f"（只触发了{_names(got)}）" if got else ""
                out.append(AuditFinding(rule.file, where.find(rule.file, text, rule.line),
                                        f"规则“{rule.title}”的触发示例没有被识别{also}：“{text}”。"
                                        f"请修改这条规则的匹配条件，或删去这条示例。"))
        for text in rule.passes:
            got = checker.audit(text, party=party)
            if got:
                out.append(AuditFinding(rule.file, where.find(rule.file, text, rule.line),
                                        f"规则“{rule.title}”的合规示例被{_names(got)}误判为违规：“{text}”。"
                                        f"请给误判的规则加上排除条件（unless）或改写示例。"))
    for pb in kb.playbooks.values():
        said = [(pb.opening, "开场白", pb.parties), (pb.closing, "结束语", pb.parties)]
        said += [(line.text, f"第{s.index}步“{s.title}”的话术", s.parties or pb.parties)
                 for s in pb.stages for line in s.lines]
        for text, what, parties in said:
            for sentence in sentences(text) or ([text] if text else []):
                got = _judge(checker, sentence, parties)
                if got:
                    out.append(AuditFinding(pb.file, where.find(pb.file, sentence),
                                            f"话术“{pb.title}”{what}{_listener(parties)}违反了{_names(got)}：“{sentence}”。"
                                            + _fix(got, "notes")))
    for f in kb.faqs:
        parties = _faq_parties(kb, f)
        for sentence in sentences(f.answer) or [f.answer]:
            got = _judge(checker, sentence, parties)
            if got:
                out.append(AuditFinding(f.file, where.find(f.file, sentence, f.line),
                                        f"问答“{f.question}”的回答{_listener(parties)}违反了{_names(got)}：“{sentence}”。"
                                        + _fix(got, "note")))
    for rule in kb.rules:
        for suggested in _SUGGESTED.findall(rule.message):
            for sentence in sentences(suggested) or [suggested]:
                got = _judge(checker, sentence, rule.parties)
                if got:
                    out.append(AuditFinding(rule.file, where.find(rule.file, sentence, rule.line),
                                            f"规则“{rule.title}”提示坐席改说的话{_listener(rule.parties)}违反了{_names(got)}："
                                            f"“{sentence}”。请改写这条规则的 message，让建议的说法本身合规。"))
    return out
