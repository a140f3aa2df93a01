"""Properties of the shipped knowledge base (kb/), whatever its current wording.

Engine behaviour is tested on tests/engine/fixture_kb; here only what must hold for any
edit a team lead makes to kb/: it loads cleanly, every stage has lines, every FAQ has a
question, an answer and phrasings, ids resolve. Every rule's own examples are checked by
the rules' tests and by `assist kb check` (the shipped-KB audit), not again here.
"""
import pytest

from assist.engine import AssistEngine
from assist.events import Utterance
from assist.knowledge import collect_issues, load_kb

KB = load_kb()


def test_loads_without_a_single_issue():
    kb, issues = collect_issues()
    assert kb is not None and issues == []


@pytest.mark.parametrize("pb", list(KB.playbooks.values()), ids=lambda p: p.id)
def test_every_stage_has_a_title_and_lines(pb):
    assert pb.title and pb.source and pb.stages
    for stage in pb.stages:
        assert stage.title and stage.lines and all(line.text.strip() for line in stage.lines), stage.id


def test_every_faq_has_question_answer_and_phrasings():
    for f in KB.faqs:
        assert f.question.strip() and f.answer.strip(), f.id
        assert f.paraphrases, f"{f.id} has no paraphrases: customers never ask in the script's words"
        assert all(p in KB.playbooks for p in f.playbooks), f.id


def test_every_faq_question_finds_its_own_faq():
    engine = AssistEngine(KB)
    missed = []
    for f in KB.faqs:
        hits = engine.process(Utterance("customer", f.question)).faq
        if not hits or hits[0].faq_id != f.id:
            missed.append((f.id, hits[0].faq_id if hits else None))
    # a question that finds another FAQ first means two FAQs say the same thing
    assert len(missed) <= len(KB.faqs) // 10, missed


def test_default_playbook_exists():
    assert KB.default_playbook is None or KB.default_playbook in KB.playbooks
