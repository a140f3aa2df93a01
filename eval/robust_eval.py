#!/usr/bin/env python3
"""Score many labelled folders (clean and noise-degraded copies) in one process, as score.py would.

    .venv/bin/python eval/robust_eval.py eval/robust_tuning eval/robust_tuning_cer20/seed* ...
    .venv/bin/python eval/robust_eval.py -v --misses DIR      # list every miss of DIR

A tuning tool, not the verdict: ``score.py`` (through ``assist analyze``) stays the
measurement. This replays the same judgement in process (one engine per folder part, lines
in order, as ``analyze`` does) so a change can be tried on the clean and the 10 % / 20 % CER
copies of every tuning set in seconds instead of a subprocess per folder. Query vectors are
memoised on disk (``--memo``, keyed by model id and the encoder's text), so only new texts
cost an encoder call. Never point it at a FRESH set while tuning.
"""
from __future__ import annotations

import argparse
import difflib
import glob
import hashlib
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assist.engine import AssistEngine  # noqa: E402
from assist.engine.kb_semantics import build_semantics  # noqa: E402
from assist.events import Utterance  # noqa: E402
from assist.knowledge import load_kb  # noqa: E402
from assist.semantics import load_encoder  # noqa: E402

FLAGGED = {"warning", "critical"}


def norm(s):
    return re.sub(r"[\s\W_]+", "", (s or "").lower())


def same_question(a, b):
    return difflib.SequenceMatcher(None, norm(a), norm(b)).ratio() >= 0.85


class Memo:
    """An encoder whose answers are kept on disk (query vectors of eval lines only)."""

    def __init__(self, enc, path):
        self.enc, self.path = enc, path
        self.model_id, self.dim = enc.model_id, enc.dim
        self.memo: dict[str, np.ndarray] = {}
        if os.path.exists(path):
            z = np.load(path, allow_pickle=True)
            self.memo = dict(z["memo"].item())
        self.dirty = False

    def _key(self, t):
        return hashlib.blake2b(f"{self.model_id}\0{t}".encode(), digest_size=16).hexdigest()

    def encode(self, texts):
        keys = [self._key(t) for t in texts]
        missing = [t for t, k in zip(texts, keys) if k not in self.memo]
        if missing:
            for t, v in zip(missing, self.enc.encode(missing)):
                self.memo[self._key(t)] = np.asarray(v, dtype=np.float32)
            self.dirty = True
        return np.array([self.memo[k] for k in keys])

    def save(self):
        if self.dirty:
            np.savez(self.path, memo=np.array(self.memo, dtype=object))


def rows_of(folder, prefix):
    return [json.loads(l) for p in sorted(glob.glob(os.path.join(folder, f"{prefix}*.jsonl")))
            for l in open(p, encoding="utf-8") if l.strip()]


def score_faq(kb, sem, rows, misses):
    engine = AssistEngine(kb, customer_channel=True, semantics=sem)
    c = {"faq": [0, 0], "objection": [0, 0], "oos": [0, 0]}
    for r in rows:
        res = engine.process(Utterance(r["speaker"], r["text"]))
        hits = [h for h in res.faq if h.shown]
        kind = r["kind"]
        if kind == "faq":
            good = bool(hits) and same_question(hits[0].question, r["expect_question"])
        elif kind == "objection":
            good = bool(hits) and any(k in hits[0].question for k in r["expect_keywords"])
        else:
            good = not hits
        c[kind][0] += good
        c[kind][1] += 1
        if not good:
            best = res.faq[0] if res.faq else None
            misses.append(f"  {kind} miss: {r['text']!r} -> "
                          + (f"{'SHOWN' if best.shown else 'hidden'} {best.question} {best.score}" if best else "none"))
    return {k: (a / b if b else None) for k, (a, b) in c.items()}


def score_comp(kb, sem, rows, misses):
    engine = AssistEngine(kb, customer_channel=False, semantics=sem)
    tp = fp = fn = 0
    for r in rows:
        res = engine.process(Utterance(r["speaker"], r["text"]))
        flagged = [w for w in res.warnings if w.severity in FLAGGED]
        if r["violation"] and flagged:
            tp += 1
        elif r["violation"]:
            fn += 1
            misses.append(f"  missed ({r.get('category')}): {r['text']!r}")
        elif flagged:
            fp += 1
            misses.append(f"  false alarm: {r['text']!r} -> {[(w.rule_id, w.found_by, w.evidence) for w in flagged]}")
    return {"P": tp / (tp + fp) if tp + fp else 0.0, "R": tp / (tp + fn) if tp + fn else 0.0, "n": tp + fp + fn}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--memo", default="/tmp/semq2-query-memo.npz")
    ap.add_argument("--lexical", action="store_true")
    a = ap.parse_args()
    kb = load_kb()
    sem = None
    memo = None
    if not a.lexical:
        sem = build_semantics(kb, load_encoder())
        memo = Memo(sem.encoder, a.memo)
        sem = replace(sem, encoder=memo)
    tot: dict[str, list[float]] = {}
    for folder in a.folders:
        misses: list[str] = []
        out = {}
        f = rows_of(folder, "faq")
        if f:
            out.update(score_faq(kb, sem, f, misses))
        c = rows_of(folder, "compliance")
        if c:
            r = score_comp(kb, sem, c, misses)
            out.update({"P": r["P"], "R": r["R"]})
        for k, v in out.items():
            if v is not None:
                tot.setdefault(k, []).append(v)
        print(f"{folder}: " + " ".join(f"{k}={v:.2f}" for k, v in out.items() if v is not None), flush=True)
        if a.v:
            print("\n".join(misses))
    print("MEAN: " + " ".join(f"{k}={np.mean(v):.3f}" for k, v in tot.items()))
    if memo is not None:
        memo.save()


if __name__ == "__main__":
    main()
