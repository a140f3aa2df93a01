"""Compliance rules: the engine's behaviour on a fixture KB, and properties of the shipped rules.

Engine behaviour (who is checked, spans with recognizer spaces, calling hours, the
self-identification reminder, details before identity) runs on ``fixture_rules_kb``: one
small rule of each kind, written for these tests, so editing kb/rules never breaks them.
The rest checks the shipped KB as properties and quality guards, whatever its rules say:
every pattern rule's own trigger/pass examples behave, the seed lines and the held-out
phrasings (tests/engine/data) are flagged or not as labelled, and what the panel tells the
agent to say is compliant.
"""
from datetime import datetime
from pathlib import Path

import pytest

from assist.engine import AssistEngine
from assist.engine.compliance import ComplianceChecker
from assist.events import PARTY_KINDS, PartyState, Utterance
from assist.knowledge import load_kb

KB = load_kb()  # the shipped KB: properties and quality guards only
PATTERN_RULES = [r for r in KB.rules if r.kind == "pattern"]
FIXTURE = load_kb(Path(__file__).parent / "fixture_rules_kb")  # engine behaviour


def _party_of(rule):
    """A rule that declares parties is run with its first party on the line, answers audible."""
    if rule is None or not rule.parties:
        return None, False
    first = rule.parties[0]
    return (PartyState(kind=first) if first in PARTY_KINDS else PartyState("third_party", first)), True


def fired(text, speaker="agent", rule=None, kb=KB):
    """Warnings for one line (patterns alone)."""
    checker = ComplianceChecker(kb)
    party, audible = _party_of(rule)
    return {w.rule_id: w for w in checker.check(Utterance(speaker, text), party=party, answers_audible=audible)}


def test_patterns_alone_catch_most_trigger_examples():
    """Partial results and a machine without the encoder rely on the patterns alone."""
    triggers = [(r, t) for r in PATTERN_RULES for t in r.triggers]
    caught = sum(1 for r, t in triggers if r.id in fired(t, rule=r))
    assert caught / len(triggers) >= 0.8, caught / len(triggers)


def test_every_pattern_rule_has_examples_both_ways():
    for rule in PATTERN_RULES:
        assert rule.triggers, f"{rule.id} has no trigger examples"
        assert rule.passes, f"{rule.id} has no pass examples"


@pytest.fixture(scope="module")
def by_example():
    """The shipped KB's example detector (real encoder): a trigger example a team lead adds need
    not match any pattern, it is caught by meaning."""
    from assist.engine.compliance_examples import ExampleDetector
    from assist.semantics import CachedEncoder, default_cache, load_encoder

    return ExampleDetector(KB, CachedEncoder(load_encoder(), default_cache()))


@pytest.mark.parametrize("rule,text", [(r, t) for r in PATTERN_RULES for t in r.triggers],
                         ids=lambda x: getattr(x, "id", x))
def test_trigger_example_fires_its_rule(rule, text, by_example):
    checker = ComplianceChecker(KB, detector=by_example)
    party, audible = _party_of(rule)
    got = {w.rule_id: w for w in checker.check(Utterance("agent", text), party=party, answers_audible=audible)}
    assert rule.id in got, f"{rule.id} did not fire on {text!r} (fired: {sorted(got)})"
    start, end = got[rule.id].span
    assert 0 <= start < end <= len(text)
    assert got[rule.id].said == text[start:end]


@pytest.mark.parametrize("rule,text", [(r, t) for r in PATTERN_RULES for t in r.passes],
                         ids=lambda x: getattr(x, "id", x))
def test_pass_example_fires_no_flag(rule, text):
    got = fired(text, rule=rule)
    flagged = {k for k, w in got.items() if w.severity in ("warning", "critical")}
    assert not flagged, f"{text!r} falsely flagged by {sorted(flagged)}"


# -- engine behaviour, on the fixture KB ----------------------------------------------------------


def test_customer_speech_is_not_checked_but_unknown_is():
    assert fired("再不还就让你坐牢", speaker="customer", kb=FIXTURE) == {}
    assert "fx_criminal_threat" in fired("再不还就让你坐牢", speaker="unknown", kb=FIXTURE)


def test_span_points_into_text_with_recognizer_spaces():
    text = "我 是 公 安 局 的"
    w = fired(text, kb=FIXTURE)["fx_authority"]
    assert "公 安" in w.said and w.span[1] <= len(text)


def test_a_homophone_is_caught_by_the_rules_pinyin():
    w = fired("再 不 还 就 让 你 做 牢", kb=FIXTURE)["fx_criminal_threat"]  # 做牢 for 坐牢
    assert "做 牢" in w.said


def test_call_hours_rule_uses_call_start_time():
    late = AssistEngine(FIXTURE, call_started_at=datetime(2026, 11, 23, 21, 15))  # the fixture allows 08:00-21:00
    r = late.process(Utterance("agent", "您好 我是长江分期的客服专员"))
    assert any(w.rule_id == "fx_hours" for w in r.warnings)
    day = AssistEngine(FIXTURE, call_started_at=datetime(2026, 11, 23, 10, 0))
    r = day.process(Utterance("agent", "您好 我是长江分期的客服专员"))
    assert not any(w.rule_id == "fx_hours" for w in r.warnings)


def test_missing_self_identification_is_an_info_reminder_once():
    e = AssistEngine(FIXTURE, call_started_at=datetime(2026, 11, 23, 10, 0))
    e.process(Utterance("agent", "喂 张强吗"))
    r = e.process(Utterance("agent", "你那笔钱什么时候还"))
    infos = [w for w in r.warnings if w.rule_id == "fx_self_id"]
    assert infos and infos[0].severity == "info"
    r = e.process(Utterance("agent", "今天能还吗"))
    assert not any(w.rule_id == "fx_self_id" for w in r.warnings)


def test_debt_details_before_identity_confirmed():
    e = AssistEngine(FIXTURE, call_started_at=datetime(2026, 11, 23, 10, 0))
    r = e.process(Utterance("agent", "我是长江分期的 您的贷款已经逾期三天了"))
    assert any(w.rule_id == "fx_details" for w in r.warnings)
    e = AssistEngine(FIXTURE, call_started_at=datetime(2026, 11, 23, 10, 0))
    e.process(Utterance("agent", "您好 请问是张强先生本人吗 我是长江分期的李明"))
    e.process(Utterance("customer", "对 是我"))
    r = e.process(Utterance("agent", "您的贷款已经逾期三天了"))
    assert not any(w.rule_id == "fx_details" for w in r.warnings)


# -- the shipped KB: properties and quality guards -------------------------------------------------


def test_shipped_kb_reminds_of_details_before_identity_once_per_line():
    """One reminder per line (details_before_verified, the party rule): the retired
    details_before_identity rule said the same again on every such line."""
    e = AssistEngine(KB)
    r = e.process(Utterance("agent", "我是长江分期的 您的贷款已经逾期三天了"))
    assert [w.rule_id for w in r.warnings if "身份" in w.title or "本人" in w.title] == ["details_before_verified"]
    assert not any(w.rule_id == "details_before_identity" for w in r.warnings)
    e = AssistEngine(KB)
    e.process(Utterance("agent", "您好 请问是张强先生本人吗 我是长江分期的李明"))
    e.process(Utterance("customer", "对 是我"))
    r = e.process(Utterance("agent", "您的贷款已经逾期三天了"))
    assert not any(w.rule_id == "details_before_verified" for w in r.warnings)


def _seed_lines():
    rows = []
    with open(__file__.rsplit("/", 1)[0] + "/data/seed_lines.tsv", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            rows.append((parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    return rows


SEED_LINES = _seed_lines()


@pytest.mark.parametrize("category,text,where,known_gap", SEED_LINES, ids=[r[1][:12] for r in SEED_LINES])
def test_seed_lines(category, text, where, known_gap):
    """Lines quoted from the seeds: the non-compliant ones are flagged, the compliant ones are not.

    A few violations need context the checker does not have (the customer's line
    before, sarcasm); they are listed with the reason and must stay unflagged-known,
    so that the day the checker learns them the list is updated.
    """
    got = fired(text)
    flagged = sorted(k for k, w in got.items() if w.severity in ("warning", "critical"))
    if category == "ok":
        assert not flagged, f"{where}: compliant line flagged by {flagged}: {text}"
    elif known_gap:
        assert not flagged, f"known gap now caught ({flagged}); move it out of the gap list: {text}"
    else:
        assert flagged, f"{where}: {category} not flagged: {text}"


def test_seed_lines_recall_figure():
    violations = [r for r in SEED_LINES if r[0] != "ok"]
    caught = sum(1 for r in violations if any(w.severity != "info" for w in fired(r[1]).values()))
    assert caught / len(violations) >= 0.9


def test_kb_answers_and_script_lines_are_compliant():
    """What the panel tells the agent to say must never raise a warning itself."""
    lines = [f.answer for f in KB.faqs]
    lines += [l.text for pb in KB.playbooks.values() for s in pb.stages for l in s.lines]
    lines += [pb.opening for pb in KB.playbooks.values() if pb.opening]
    lines += [pb.closing for pb in KB.playbooks.values() if pb.closing]
    bad = [(t, sorted(k for k, w in fired(t).items() if w.severity != "info")) for t in lines]
    bad = [b for b in bad if b[1]]
    assert not bad, bad


def test_compliance_phrasings_written_apart_from_the_rules():
    """tests/engine/data/compliance_heldout.jsonl: violations and look-alike compliant lines."""
    import json

    rows = [json.loads(l) for l in open(__file__.rsplit("/", 1)[0] + "/data/compliance_heldout.jsonl", encoding="utf-8")]
    misses, false_alarms = [], []
    for r in rows:
        flagged = any(w.severity != "info" for w in fired(r["text"]).values())
        if r["violation"] and not flagged:
            misses.append(r["text"])
        elif flagged and not r["violation"]:
            false_alarms.append(r["text"])
    n_viol = sum(r["violation"] for r in rows)
    print(f"recall {1 - len(misses) / n_viol:.2f}, false alarms {len(false_alarms)}")
    assert not false_alarms
    assert len(misses) / n_viol <= 0.05, misses
