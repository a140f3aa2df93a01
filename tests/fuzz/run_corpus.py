"""Run the hostile-input corpus and print its outcome table (tracebacks, hangs, problems).

    .venv/bin/python tests/fuzz/run_corpus.py [--kb DIR] [--verbose]

Runs against whatever ``assist`` is importable, so pointing PYTHONPATH at an older
checkout counts what that version does with the same cases (the "before" column).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CASES, run_all  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.kb:
        kb = Path(args.kb)
    else:
        from assist.knowledge import default_kb_dir
        kb = Path(default_kb_dir())
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    results = run_all(kb)
    for case in CASES:
        outcome, detail = results.get(case.name, ("hang", "not reached"))
        table[case.category][outcome] += 1
        if args.verbose or outcome != "ok":
            last = detail.strip().splitlines()[-1] if detail.strip() else ""
            print(f"{outcome:9s} [{case.category}] {case.name}: {last}", flush=True)
    print(f"\n{'category':12s} {'cases':>5s} {'ok':>4s} {'traceback':>9s} {'hang':>4s} {'problem':>7s}")
    total = collections.Counter()
    for cat, c in table.items():
        n = sum(c.values())
        total.update(c)
        print(f"{cat:12s} {n:5d} {c['ok']:4d} {c['traceback']:9d} {c['hang']:4d} {c['problem']:7d}")
    print(f"{'all':12s} {sum(total.values()):5d} {total['ok']:4d} {total['traceback']:9d} {total['hang']:4d} {total['problem']:7d}")
    os._exit(0)  # a hung case's thread must not keep the process alive


if __name__ == "__main__":
    main()
