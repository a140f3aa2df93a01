"""The hostile-input corpus (tests/fuzz/corpus.py): no traceback, no hang (each case within
corpus.LIMIT_S, enforced by the harness), no lost utterance, no unmasked number, no escape
sequence on a terminal, no KB accepted that would silently run without rules."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CASES, run_all  # noqa: E402

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
