#!/usr/bin/env python3
"""In-process twin of score.py's call scoring + score_party.py, for quick tuning loops.

    .venv/bin/python eval/guard3/quick_eval.py eval/guard3_tuning [more dirs] [-v]

Builds the KB and its sentence vectors once, then runs each call through a fresh
AssistEngine exactly as `assist analyze` does (customer_channel from the transcript,
--started-at from the meta line, semantics attached; playbook left to the engine as
score.py does for calls without stage labels). Prints guard P/R and party-by-4th-line per
folder. The reported figures come from score.py / score_party.py themselves; this is
for iterating only.
"""
import glob
import json
import os
import sys
from datetime import datetime

from assist.assembly import build_kb_semantics
from assist.engine import AssistEngine
from assist.events import Utterance
from assist.knowledge import load_kb

FLAGGED = {"warning", "critical"}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "-v" in sys.argv
    kb = load_kb(None)
    sem, _ = build_kb_semantics(kb)
    for d in args:
        tp = fp = fn = 0
        n = ok = 0
        for path in sorted(glob.glob(os.path.join(d, "calls", "guard*.jsonl")) + glob.glob(os.path.join(d, "guard*.jsonl"))):
            rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
            meta = rows.pop(0)["meta"] if rows and "meta" in rows[0] else {}
            started = datetime.fromisoformat(meta["started_at"]) if meta.get("started_at") else None
            utts = [Utterance(speaker=r["speaker"], text=r["text"], final=True, segment=f"{r['speaker']}-{i}")
                    for i, r in enumerate(rows)]
            heard = any(u.speaker in ("customer", "unknown") for u in utts)
            eng = AssistEngine(kb, call_started_at=started, customer_channel=heard)
            eng.attach_semantics(sem)
            res = [eng.process(u) for u in utts]
            name = os.path.basename(path)
            for r, out in zip(rows, res):
                if "violation" not in r:
                    continue
                flagged = any(w.severity in FLAGGED for w in out.warnings)
                if r["violation"] and flagged:
                    tp += 1
                elif r["violation"]:
                    fn += 1
                    if verbose:
                        print(f"  MISS {name}: {r['text']!r} party={out.party.kind if out.party else None}")
                elif flagged:
                    fp += 1
                    if verbose:
                        print(f"  FALSE {name}: {r['text']!r} -> {[w.rule_id for w in out.warnings]}")
            if "party" in meta:
                cust = [i for i, r in enumerate(rows) if r["speaker"] == "customer"
                        or (r["speaker"] == "unknown" and "violation" not in r)]
                at = cust[min(4, len(cust)) - 1] if cust else len(rows) - 1
                got = res[at].party
                n += 1
                good = got is not None and got.kind == meta["party"]
                ok += good
                if verbose and (not good or (meta["party"] == "third_party" and got.relation != meta.get("relation"))):
                    print(f"  PARTY {name}: want {meta['party']}/{meta.get('relation','')} got {got.kind}/{got.relation} ({got.evidence!r})")
        p = tp / (tp + fp) if tp + fp else 0
        r_ = tp / (tp + fn) if tp + fn else 0
        print(f"{d}: guard P/R {p:.2f}/{r_:.2f} (tp {tp} fp {fp} fn {fn})  party {ok}/{n}")


if __name__ == "__main__":
    main()
