#!/usr/bin/env python3
"""Why FAQ/objection lines miss, and what another fusion would do (a tuning tool).

    .venv/bin/python eval/fusion_probe.py --dump /tmp/probe.npz FOLDER ...   # features, once
    .venv/bin/python eval/fusion_probe.py --load /tmp/probe.npz              # report + grid

For every labelled customer line it keeps the lexical score of every FAQ (the engine's
``PhraseIndex``), the cosine of every FAQ phrasing and the nearest out-of-scope cosine, so
fusion rules can be compared in numpy without re-running the engine. It ignores the
playbook bonus and the engine's call context: ``robust_eval.py`` and, finally, score.py
judge a chosen rule. Tuning lines only: never point it at a FRESH set.
"""
from __future__ import annotations

import argparse
import difflib
import glob
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def norm(s):
    return re.sub(r"[\s\W_]+", "", (s or "").lower())


def same_question(a, b):
    return difflib.SequenceMatcher(None, norm(a), norm(b)).ratio() >= 0.85


def dump(folders, out, memo_path):
    from assist.engine import AssistEngine
    from assist.engine.faq_matcher import FaqMatcher, faq_phrasings
    from assist.engine.kb_semantics import build_semantics, encoder_text
    from assist.knowledge import load_kb
    from assist.semantics import load_encoder
    from robust_eval import Memo

    kb = load_kb()
    sem = build_semantics(kb, load_encoder())
    memo = Memo(sem.encoder, memo_path)
    eng = AssistEngine(kb, semantics=sem)
    lexicon = eng.lexicon
    matcher: FaqMatcher = eng.faq
    n = len(kb.faqs)
    questions = [f.question for f in kb.faqs]
    recs = []
    for folder in folders:
        for p in sorted(glob.glob(os.path.join(folder, "faq*.jsonl"))):
            for line in open(p, encoding="utf-8"):
                if not line.strip():
                    continue
                r = json.loads(line)
                keys = lexicon.keys(r["text"])
                lex = np.zeros(n, dtype=np.float32)
                for m in matcher.index.search(keys, limit=n, rerank=n):
                    lex[m.group] = m.score
                t = encoder_text(r["text"])
                q = memo.encode([t])[0] if t else np.zeros(sem.faq.vectors.shape[1], np.float32)
                cos_rows = sem.faq.scores(q)
                oos = sem.out_of_scope.nearest(q, 1)[0][1]
                if r["kind"] == "faq":
                    want = [g for g in range(n) if same_question(questions[g], r["expect_question"])]
                elif r["kind"] == "objection":
                    want = [g for g in range(n) if any(k in questions[g] for k in r["expect_keywords"])]
                else:
                    want = []
                recs.append(dict(folder=folder, kind=r["kind"], text=r["text"], nkeys=len(keys),
                                 lex=lex, cos_rows=cos_rows, oos=oos, want=want))
    memo.save()
    _, groups = faq_phrasings(kb)
    np.savez(out, recs=np.array(recs, dtype=object), groups=np.array(groups), questions=np.array(questions))


def group_best(cos_rows, groups, n):
    best = np.full(n, -1.0, dtype=np.float32)
    np.maximum.at(best, groups, cos_rows)
    return best


def group_topk(cos_rows, groups, n, k):
    out = np.zeros(n, dtype=np.float32)
    for g in range(n):
        s = np.sort(cos_rows[groups == g])[::-1][:k]
        out[g] = s.mean()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="*")
    ap.add_argument("--dump")
    ap.add_argument("--load")
    ap.add_argument("--memo", default="/tmp/semq3-memo.npz")
    a = ap.parse_args()
    if a.dump:
        dump(a.folders, a.dump, a.memo)
        return
    z = np.load(a.load, allow_pickle=True)
    recs, groups, questions = list(z["recs"]), z["groups"], list(z["questions"])
    n = len(questions)
    for r in recs:
        r["sem"] = group_best(r["cos_rows"], groups, n)
    # rank diagnosis under the shipped fusion
    from assist.engine import calibration as C
    def fused(r, wl=C.FAQ_W_LEX, ws=C.FAQ_W_SEM, lo=C.SEM_FLOOR, hi=C.SEM_CEIL):
        return wl * r["lex"] + ws * np.clip((r["sem"] - lo) / (hi - lo), 0, 1)
    def report(fn, label):
        res = {"faq": [0, 0], "objection": [0, 0]}
        for r in recs:
            if r["kind"] == "oos":
                continue
            s = fn(r)
            res[r["kind"]][1] += 1
            res[r["kind"]][0] += int(np.argmax(s) in r["want"])
        print(label, " ".join(f"{k}={a / b:.3f}" for k, (a, b) in res.items()))
    report(lambda r: r["lex"], "lexical only, rank-1:")
    report(lambda r: r["sem"], "semantic only, rank-1:")
    report(fused, "shipped fusion, rank-1:")
    for wl in (0.35, 0.45, 0.55, 0.65):
        for lo in (0.80, 0.83):
            report(lambda r: fused(r, wl, 1 - wl, lo), f"wl={wl} lo={lo}:")


if __name__ == "__main__":
    main()


def debug(path, folder):
    z = np.load(path, allow_pickle=True)
    recs, groups, questions = list(z["recs"]), z["groups"], list(z["questions"])
    n = len(questions)
    from assist.engine import calibration as C
    for r in recs:
        if r["folder"] != folder or r["kind"] == "oos":
            continue
        sem = group_best(r["cos_rows"], groups, n)
        f = C.FAQ_W_LEX * r["lex"] + C.FAQ_W_SEM * np.clip((sem - C.SEM_FLOOR) / (C.SEM_CEIL - C.SEM_FLOOR), 0, 1)
        b = int(np.argmax(f))
        print(b in r["want"], r["text"], "->", questions[b], round(float(f[b]), 3), [questions[w] for w in r["want"]])
