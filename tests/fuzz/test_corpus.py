"""The hostile-input corpus (tests/fuzz/corpus.py): no traceback, no hang (each case within
corpus.LIMIT_S, enforced by the harness), no lost utterance, no unmasked number, no escape
sequence on a terminal, no KB accepted that would silently run without rules. The lexical
cases run with the encoder off; the encoder cases put hostile lines through the hybrid path."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CASES, HYBRID_CASES, run_all  # noqa: E402

from assist.knowledge import default_kb_dir


def test_corpus_covers_the_sweep():
    assert len(CASES) >= 112


@pytest.fixture(scope="module")
def outcomes():
    # one child process runs them all; a case over its limit is killed there and counted as a hang
    return run_all(Path(default_kb_dir()))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.category}: {c.name}")
def test_hostile_case(case, outcomes):
    outcome, detail = outcomes[case.name]
    assert outcome == "ok", f"{outcome}: {detail}"


@pytest.fixture(scope="module")
def hybrid_outcomes():
    # the engine tests' small KB: encoding the shipped KB's phrasings first would cost the suite a minute
    return run_all(Path(__file__).resolve().parent.parent / "engine" / "fixture_kb", group="hybrid")


@pytest.mark.parametrize("case", HYBRID_CASES, ids=lambda c: f"{c.category}: {c.name}")
def test_hostile_line_through_the_encoder(case, hybrid_outcomes):
    outcome, detail = hybrid_outcomes[case.name]
    assert outcome == "ok", f"{outcome}: {detail}"
