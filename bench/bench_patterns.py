"""Rule patterns on hostile text: the matching engines compared, and the shipped KB on long lines.

    .venv/bin/python bench/bench_patterns.py [--kb DIR] [--length 10000] [--long 1000000]

1. Every pattern of the KB (match.any/all/unless/pinyin_any and sequence-rule
   settings) on every adversarial string ``kb check`` uses (10,000 characters):
   the slowest time per pattern with ``assist.knowledge.patterns`` (re2, or regex
   with a budget behind an re2 prefilter), with plain ``re`` and with ``regex``
   alone, for comparison. Target: every pattern <= 50 ms.
2. Known catastrophic patterns ((a+)+$ and friends) on a 5,000-character line:
   ``re`` (capped by a subprocess timeout), ``regex`` with a 50 ms timeout, and ours.
3. Single utterances of up to ``--long`` characters through the whole engine
   (FAQ, stage, compliance, pinyin) with the shipped KB. Target: <= 2 s.
Figures depend on load: the machine is shared, say so next to any figure.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

import regex

from assist.engine import AssistEngine
from assist.knowledge.patterns import PatternTimeout, _adversarial, compile_pattern
from assist.events import Utterance
from assist.knowledge import load_kb


def kb_patterns(kb) -> list[tuple[str, str]]:
    out = []
    for r in kb.rules:
        for key in ("any", "all", "unless", "pinyin_any"):
            out += [(f"{r.id}.{key}", p) for p in getattr(r.match, key)]
        out += [(f"{r.id}.params.{k}", v) for k, v in r.params.items()
                if k in ("pattern", "identity", "details") and isinstance(v, str)]
    return out


def worst(fn, strings) -> float:
    w = 0.0
    for s in strings:
        t0 = time.perf_counter()
        try:
            fn(s)
        except (PatternTimeout, TimeoutError):
            return float("inf")
        w = max(w, time.perf_counter() - t0)
    return w


def ms(x: float) -> str:
    return "timeout" if x == float("inf") else f"{x * 1000:8.2f}"


def part_patterns(kb, length: int) -> None:
    print(f"1. KB patterns, slowest over the adversarial strings of {length} characters (ms)")
    print(f"   {'pattern':44s} {'engine':6s} {'ours':>8s} {'re':>8s} {'regex':>8s}")
    slowest = 0.0
    for name, p in kb_patterns(kb):
        strings = [s[:length] for s in _adversarial(p)]
        ours = compile_pattern(p)
        t_ours = worst(ours.finditer, strings)
        t_re = worst(lambda s, c=re.compile(p): list(c.finditer(s)), strings)
        t_rx = worst(lambda s, c=regex.compile(p): list(c.finditer(s, timeout=1.0)), strings)
        slowest = max(slowest, t_ours)
        print(f"   {name[:44]:44s} {ours.engine:6s} {ms(t_ours)} {ms(t_re)} {ms(t_rx)}")
    print(f"   slowest pattern with ours: {ms(slowest)} ms (target <= 50)")


CATASTROPHIC = [r"(a+)+$", r"(a|aa)+$", r"(a|a?)+$", r"(.*a){12}", r"(\d+)*x", r"^(([a-z])+.)+[A-Z]([a-z])+$"]


def _re_in_subprocess(p: str, s: str, limit: float) -> float:
    code = f"import re,sys; re.search({p!r}, sys.stdin.read())"
    t0 = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", code], input=s, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return float("inf")
    return time.perf_counter() - t0


def part_catastrophic() -> None:
    print("2. catastrophic patterns on 5,000 characters (ms; re capped at 5 s, regex at 50 ms)")
    for p in CATASTROPHIC:
        s = ("a" * 4999 + "!") if "d" not in p else ("1" * 4999 + "!")
        if p.startswith("^((["):
            s = "a" * 4999 + "!"
        t_re = _re_in_subprocess(p, s, 5.0)
        t_rx = worst(lambda x: regex.search(p, x, timeout=0.05), [s])
        ours = compile_pattern(p)
        t_ours = worst(ours.finditer, [s])
        print(f"   {p:34s} re {ms(t_re)}  regex {ms(t_rx)}  ours[{ours.engine}] {ms(t_ours)}")


def part_long(kb, longest: int) -> None:
    print("3. one utterance through the whole engine, shipped KB (s; target <= 2 s at 1,000,000;"
          " cpu is this process's CPU time, which a busy machine inflates less than wall time)")
    makers = {
        "digits": lambda n: ("1234567890" * (n // 10 + 1))[:n],
        "rule words": lambda n: ("我们这里是公安局的你涉嫌诈骗坐牢等着瞧" * (n // 19 + 1))[:n],
        "spaced": lambda n: ("我 " * (n // 2 + 1))[:n],
        "one char": lambda n: "罪" * n,
        "latin": lambda n: ("zuo lao " * (n // 8 + 1))[:n],
    }
    n = 1000
    while n <= longest:
        for name, make in makers.items():
            engine = AssistEngine(kb)
            u = Utterance(speaker="unknown", text=make(n), start=0.0, end=1.0, final=True, segment="x")
            t0, c0 = time.perf_counter(), time.process_time()
            r = engine.process(u)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"   {n:>9,d} {name:10s} {wall:6.2f} s wall {cpu:6.2f} s cpu  warnings {len(r.warnings)}")
        n *= 10


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb")
    ap.add_argument("--length", type=int, default=10_000)
    ap.add_argument("--long", type=int, default=1_000_000)
    args = ap.parse_args()
    kb = load_kb(args.kb)
    part_patterns(kb, args.length)
    part_catastrophic()
    part_long(kb, args.long)


if __name__ == "__main__":
    main()
