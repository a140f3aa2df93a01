"""The hostile-input corpus (tests/fuzz/corpus.py): no traceback, no hang (each case within
corpus.LIMIT_S, enforced by the harness), no lost utterance, no unmasked number, no escape
sequence on a terminal, no KB accepted that would silently run without rules."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CASES, check_case  # noqa: E402

from assist.knowledge import default_kb_dir


def test_corpus_covers_the_sweep():
    assert len(CASES) >= 112


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.category}: {c.name}")
def test_hostile_case(case):
    outcome, detail = check_case(case, Path(default_kb_dir()))
    assert outcome == "ok", f"{outcome}: {detail}"
