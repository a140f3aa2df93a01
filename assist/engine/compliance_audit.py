"""The knowledge base checked against its own compliance rules (``assist kb check``).

Two questions, each answered with file and line:
- do the rules do what their examples say? Every pattern rule's trigger examples must be
  flagged and its pass examples must not be, by the same checker the call uses (patterns,
  and by example when an encoder is given);
- does the product ever tell the agent to say something its rules forbid? Every script line,
  opening and closing, and every FAQ answer, sentence by sentence, goes through the checker.
  A suggestion is judged by the other examples, not excused for being compliant by
  definition (it is left out of the detector's compliant side while it is judged).
Thread: whichever runs ``kb check``; builds its own checker.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assist.engine.compliance import ComplianceChecker
from assist.engine.compliance_examples import ExampleDetector, sentences
from assist.events import PARTY_KINDS, PartyState
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
        said = [(pb.opening, "开场白"), (pb.closing, "结束语")]
        said += [(line.text, f"第{s.index}步“{s.title}”的话术") for s in pb.stages for line in s.lines]
        for text, what in said:
            for sentence in sentences(text) or ([text] if text else []):
                got = checker.audit(sentence, exclude=sentence)
                if got:
                    out.append(AuditFinding(pb.file, where.find(pb.file, sentence),
                                            f"话术“{pb.title}”{what}违反了{_names(got)}：“{sentence}”。" + _fix(got, "notes")))
    for f in kb.faqs:
        for sentence in sentences(f.answer) or [f.answer]:
            got = checker.audit(sentence, exclude=sentence)
            if got:
                out.append(AuditFinding(f.file, where.find(f.file, sentence, f.line),
                                        f"问答“{f.question}”的回答违反了{_names(got)}：“{sentence}”。" + _fix(got, "note")))
    return out
