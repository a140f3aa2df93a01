"""The corpus harness itself: a case over its limit is a hang and is never left running, so it
cannot disturb the next case, and nothing a case prints can pass for the child's report."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import HARNESS_CASES, run_all  # noqa: E402


def test_an_overrun_case_is_stopped_and_the_next_case_runs_undisturbed(tmp_path):
    mark = tmp_path / "late-case-was-here"
    env = {**os.environ, "HARNESS_MARK": str(mark), "HARNESS_WAIT_S": "8"}
    results = run_all(tmp_path, env=env, group="harness")
    overrun, nxt, printer = (results[c.name] for c in HARNESS_CASES)
    assert overrun[0] == "hang"
    # the late case would have forged a "problem" report for the next case and left its mark
    assert nxt == ("ok", nxt[1]) and "forged" not in nxt[1], nxt
    assert printer[0] == "ok", printer
    assert not mark.exists()
