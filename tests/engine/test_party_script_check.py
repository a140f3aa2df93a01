"""``kb check`` judges lines meant for a third party with a third party on the line.

Fixture KB in data/party_script_kb: a playbook for third parties (``parties: [third_party]``),
a stage of a debtor playbook for when someone else answers, FAQs for relatives (by their
playbook or their own ``parties``), and rule messages whose suggested line is itself checked.
Patterns only (no encoder): what is tested is who each line is judged as said to.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assist.engine.compliance_audit import audit_kb, said_to
from assist.knowledge import load_kb
from assist.knowledge.loader import KBError

KB_DIR = Path(__file__).parent / "data" / "party_script_kb"


def _line_of(finding) -> str:
    return (KB_DIR.parent / finding.file).read_text(encoding="utf-8").splitlines()[finding.line - 1]


@pytest.fixture(scope="module")
def findings():
    return audit_kb(load_kb(KB_DIR))


def test_a_third_party_line_that_mentions_the_debt_is_an_error_with_file_and_line(findings):
    bad = [f for f in findings if "他的还款已经晚了几天" in f.message]
    assert len(bad) == 1 and bad[0].file.endswith("playbooks/callback.yaml")
    assert "他的还款已经晚了几天" in _line_of(bad[0])
    assert "对第三人说" in bad[0].message and "向第三人提欠款" in bad[0].message


def test_a_stage_for_someone_else_is_judged_as_said_to_them(findings):
    bad = [f for f in findings if "麻烦您转告他账单要逾期了" in f.message]
    assert len(bad) == 1 and "麻烦您转告他账单要逾期了" in _line_of(bad[0])
    # the same words about the bill to the debtor are the script's job: not flagged
    assert not [f for f in findings if "您这期账单还有两天到期" in f.message]


def test_faq_answers_for_relatives_by_playbook_or_own_parties(findings):
    by_playbook = [f for f in findings if "他这个月的账单还没还" in f.message]
    own = [f for f in findings if "您的逾期记录我们会核对" in f.message]
    assert len(by_playbook) == 1 and by_playbook[0].file.endswith("faqs/faqs.yaml")
    assert "他这个月的账单还没还" in _line_of(by_playbook[0])
    assert len(own) == 1 and "打错电话" in own[0].message  # said to a wrong number: a third party
    assert not [f for f in findings if "本周五到期" in f.message or "请他本人给我们回个电话" in f.message]


def test_the_line_a_rule_suggests_is_checked_with_the_rules_parties(findings):
    msg = [f for f in findings if "提示坐席改说的话" in f.message]
    assert [("麻烦您提醒他账单的事" in f.message) for f in msg] == [True]
    assert "麻烦您提醒他账单的事" in _line_of(msg[0])
    # the callback line suggested by tp_mention and the identity question are fine
    assert not [f for f in findings if "麻烦您请他回个电话" in f.message or "请问您是王五先生本人吗" in f.message]


def test_nothing_else_is_flagged(findings):
    assert len(findings) == 5, "\n".join(map(str, findings))


def test_third_party_stands_for_every_relation():
    kinds = {(p.kind, p.relation) for p in said_to(("third_party",)) if p is not None}
    assert ("third_party", "family") in kinds and ("third_party", "wrong_number") in kinds
    assert said_to(()) == [None]


def test_kb_check_command_fails_and_names_the_lines(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(KB_DIR, kb)
    p = subprocess.run([sys.executable, "-m", "assist", "kb", "check", "--kb", str(kb)],
                       capture_output=True, text=True, timeout=600, env={**__import__("os").environ,
                                                                         "ASSIST_ENCODER": "none"})
    assert p.returncode == 1
    assert "playbooks/callback.yaml:" in p.stdout and "faqs/faqs.yaml:" in p.stdout


def test_a_misspelt_party_on_a_playbook_is_named(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(KB_DIR, kb)
    book = kb / "playbooks" / "callback.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace("parties: [third_party]", "parties: [thirdparty]"),
                    encoding="utf-8")
    with pytest.raises(KBError) as e:
        load_kb(kb)
    assert "thirdparty" in str(e.value) and "third_party" in str(e.value)
