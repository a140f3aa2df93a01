#!/usr/bin/env python3
"""Score who-is-on-the-line: is the party state right by the fourth customer line?

    .venv/bin/python eval/guard/score_party.py eval/guard/tuning   # the lines tuned on
    .venv/bin/python eval/guard/score_party.py eval/guard/fresh    # written after building

Each guard*.jsonl call file starts with {"meta": {"party": "debtor|third_party|refused|unknown",
"relation": "family|colleague|friend|wrong_number|other", "started_at": ...}}: who really is on the
line. The call goes through `assist analyze`; the party it prints after the fourth customer line
(or the last one, in a shorter call) is compared with the truth: the kind (debtor / third party /
refused / unknown) must match; the relation is reported as a second figure. Exit 0 always.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile


def analyze(cmd, rows, extra):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"speaker": r["speaker"], "text": r["text"]}, ensure_ascii=False) + "\n")
        path = f.name
    try:
        p = subprocess.run(cmd + ["analyze", path, *extra], capture_output=True, text=True, timeout=600)
    finally:
        os.unlink(path)
    if p.returncode != 0:
        sys.exit(f"analyze failed: {p.stderr[-400:]}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="folder of guard*.jsonl call files")
    ap.add_argument("--cmd", default=f"{sys.executable} -m assist")
    ap.add_argument("--by", type=int, default=4, help="customer line by which the party must be right")
    a = ap.parse_args()
    cmd = a.cmd.split()
    n = kind_ok = rel_ok = n_rel = 0
    for path in sorted(glob.glob(os.path.join(a.data, "guard*.jsonl"))):
        rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
        meta = rows.pop(0)["meta"] if rows and "meta" in rows[0] else {}
        if "party" not in meta:
            continue
        extra = ["--started-at", meta["started_at"]] if meta.get("started_at") else []
        out = analyze(cmd, rows, extra)
        # customer lines: the customer's channel, or on one mixed channel any line not labelled as the agent's
        cust = [i for i, r in enumerate(rows) if r["speaker"] == "customer"
                or (r["speaker"] == "unknown" and "violation" not in r)]
        at = cust[min(a.by, len(cust)) - 1] if cust else len(rows) - 1
        got = out[at].get("party") or {}
        n += 1
        ok = got.get("kind") == meta["party"]
        kind_ok += ok
        if meta["party"] == "third_party":
            n_rel += 1
            rel_ok += ok and got.get("relation") == meta.get("relation")
        mark = "ok " if ok else "BAD"
        print(f"{mark} {os.path.basename(path)}: expected {meta['party']}/{meta.get('relation', '')} "
              f"got {got.get('kind')}/{got.get('relation')} at line {at + 1} ({got.get('evidence', '')!r})")
    if n:
        print(f"party_by_customer_line_{a.by}: {kind_ok / n:.3f} ({kind_ok}/{n} calls)")
    if n_rel:
        print(f"third_party_relation: {rel_ok / n_rel:.3f} ({rel_ok}/{n_rel})")


if __name__ == "__main__":
    main()
