#!/usr/bin/env python3
"""Choose the fusion constants of ``assist/engine/calibration.py`` on whole labelled sets.

    .venv/bin/python eval/tune_fusion.py DIR_OR_FILE ...   # folders of score.py-format files

It encodes each labelled line once (the real encoder, the real KB), then runs the real
``FaqMatcher`` / ``StageTracker`` for every combination of a small grid of constants and
prints the best combinations by a summed figure (FAQ top-1 + objection top-1 + small talk
silent + stage accuracy). Tuning lines only: never point it at a fresh measurement set.
"""
from __future__ import annotations

import argparse
import difflib
import itertools
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assist.engine import AssistEngine, calibration, faq_matcher, stage_tracker  # noqa: E402
from assist.engine.kb_semantics import build_semantics  # noqa: E402
from assist.events import Utterance  # noqa: E402
from assist.knowledge import load_kb  # noqa: E402
from assist.semantics import load_encoder  # noqa: E402


def norm(s):
    return re.sub(r"[\s\W_]+", "", (s or "").lower())


def same_question(a, b):
    return difflib.SequenceMatcher(None, norm(a), norm(b)).ratio() >= 0.85


def load_sets(paths):
    faq, calls = [], []
    for p in paths:
        p = Path(p)
        files = sorted(p.rglob("*.jsonl")) if p.is_dir() else [p]
        for f in files:
            rows = [json.loads(l) for l in f.read_text(encoding="utf-8").splitlines() if l.strip()]
            rows = [r for r in rows if "meta" not in r]
            if f.name.startswith("faq"):
                faq += rows
            elif f.name.startswith("call") and any("expect_stage" in r for r in rows):
                calls.append(rows)
    return faq, calls


class Replay:
    """An encoder that answers from vectors computed once (the grid reruns the same lines)."""

    def __init__(self, enc):
        self.enc, self.memo = enc, {}
        self.model_id, self.dim = enc.model_id, enc.dim

    def encode(self, texts):
        import numpy as np
        missing = [t for t in texts if t not in self.memo]
        if missing:
            for t, v in zip(missing, self.enc.encode(missing)):
                self.memo[t] = v
        return np.array([self.memo[t] for t in texts])


def evaluate(kb, sem, faq_rows, calls):
    engine = AssistEngine(kb, semantics=sem)
    ok = {"faq": [0, 0], "objection": [0, 0], "oos": [0, 0], "stage": [0, 0]}
    for r in faq_rows:
        engine.reset()
        res = engine.process(Utterance(r.get("speaker", "customer"), r["text"]))
        hits = [h for h in res.faq if h.shown]
        kind = r.get("kind") or ("faq" if r.get("expect") else "oos")
        if kind == "faq" and "expect" in r:  # tests/engine/data/faq_heldout.jsonl: by FAQ id
            good = bool(hits) and hits[0].faq_id == r["expect"]
        elif kind == "faq":
            good = bool(hits) and same_question(hits[0].question, r["expect_question"])
        elif kind == "objection":
            good = bool(hits) and any(k in hits[0].question for k in r["expect_keywords"])
        else:
            good = not hits
        ok[kind][0] += good
        ok[kind][1] += 1
    for rows in calls:
        e = AssistEngine(kb, playbook_id="changjiang_extension", semantics=sem)
        for r in rows:
            res = e.process(Utterance(r["speaker"], r["text"]))
            if "expect_stage" in r:
                ok["stage"][0] += (res.stage is not None and res.stage.index == r["expect_stage"])
                ok["stage"][1] += 1
    return {k: (a / b if b else None) for k, (a, b) in ok.items()}


GRID = {
    "FAQ_W_SEM": [0.25, 0.35],
    "FUSED_SHOW": [0.32, 0.36, 0.40],
    "OOS_MARGIN": [0.01, 0.02],
}
STAGE_GRID = {
    "STAGE_W_SEM": [0.3, 0.5, 0.7],
    "STAGE_FUSED_THRESHOLD": [0.2, 0.25, 0.3, 0.35],
}


def patch(values):
    for k, v in values.items():
        for mod in (calibration, faq_matcher, stage_tracker):
            if hasattr(mod, k):
                setattr(mod, k, v)
        if k == "FAQ_W_SEM":
            patch({"FAQ_W_LEX": 1 - v})
        if k == "STAGE_W_SEM":
            patch({"STAGE_W_LEX": 1 - v})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--stages", action="store_true", help="tune the stage constants instead")
    a = ap.parse_args()
    kb = load_kb()
    faq_rows, calls = load_sets(a.paths)
    sem = build_semantics(kb, load_encoder())
    from dataclasses import replace
    sem = replace(sem, encoder=Replay(sem.encoder))
    print(f"{len(faq_rows)} FAQ-file lines, {len(calls)} calls", file=sys.stderr)
    print("current:", evaluate(kb, sem, faq_rows, calls if a.stages else []))
    grid = STAGE_GRID if a.stages else GRID
    results = []
    for combo in itertools.product(*grid.values()):
        values = dict(zip(grid, combo))
        patch(values)
        res = evaluate(kb, sem, [] if a.stages else faq_rows, calls if a.stages else [])
        total = sum(v for v in res.values() if v is not None)
        results.append((total, values, res))
    results.sort(key=lambda x: -x[0])
    for total, values, res in results[:a.top]:
        print(f"{total:.3f} {values} {({k: round(v, 3) for k, v in res.items() if v is not None})}")


if __name__ == "__main__":
    main()
