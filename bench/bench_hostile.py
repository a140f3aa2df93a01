"""One runaway utterance (up to a million characters) through the shipped KB: where the time goes.

    .venv/bin/python bench/bench_hostile.py [--kb DIR] [--long 1000000] [--analyze]

Issue 15's target: any single utterance up to 1,000,000 characters through the
shipped KB in <= 2 s. A recognizer final is a sentence or two; a pasted
transcript line, a stuck recognizer or a hostile file can be anything.

1. ``AssistEngine.process`` on one utterance (speaker ``unknown``: every stage
   runs) for several kinds of content, with wall and CPU time of this process,
   and the CPU time of each stage: compacting the text (shared by every stage,
   kept by ``compact``'s cache), the matching keys, FAQ, script stages, party,
   compliance. Each measurement starts from a fresh engine and a cold cache.
2. What else such a line meets on its way: masking (recorder, exports, logs),
   ``printable`` (terminal, Markdown), JSON (analyze's output).
3. With ``--analyze``: ``assist analyze`` end to end on a one-line transcript
   (a child process: wall time and its CPU time, start-up included; an empty
   transcript gives the start-up alone).
The lexical engine (``ASSIST_ENCODER=none`` is set here): the sentence encoder reads
the first 128 characters of a line whatever its length (assist.semantics).
Figures depend on load: the machine is shared, say so next to any figure.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ["ASSIST_ENCODER"] = "none"

from assist.engine import AssistEngine  # noqa: E402
from assist.events import Utterance  # noqa: E402
from assist.knowledge import load_kb  # noqa: E402
from assist.printable import printable  # noqa: E402
from assist.store.masking import mask_text  # noqa: E402
from assist.zh import text as zh_text  # noqa: E402

MAKERS = {
    "digits": lambda n: ("1234567890" * (n // 10 + 1))[:n],
    "rule words": lambda n: ("我们这里是公安局的你涉嫌诈骗坐牢等着瞧" * (n // 19 + 1))[:n],
    "spaced": lambda n: ("我 " * (n // 2 + 1))[:n],
    "one char": lambda n: "罪" * n,
    "latin": lambda n: ("zuo lao " * (n // 8 + 1))[:n],
    "answer+q": lambda n: "我就是张强，" + ("请问展期要什么手续" * (n // 9 + 1))[:max(0, n - 6)],
}


class _Clock:
    """CPU time spent inside wrapped methods, per stage."""

    def __init__(self):
        self.cpu: dict[str, float] = {}

    def wrap(self, name: str, obj, attr: str) -> None:
        fn = getattr(obj, attr)

        def timed(*a, **kw):
            c0 = time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c0
        setattr(obj, attr, timed)


def one(kb, text: str) -> tuple[float, float, dict[str, float], int]:
    zh_text.compact.cache_clear()
    engine = AssistEngine(kb)
    clock = _Clock()
    clock.wrap("keys", engine.lexicon, "keys")
    clock.wrap("faq", engine.faq, "match")
    for t in engine.trackers.values():
        clock.wrap("stages", t, "observe")
    clock.wrap("party", engine.party, "observe")
    clock.wrap("compliance", engine.compliance, "check")
    u = Utterance(speaker="unknown", text=text, start=0.0, end=1.0, final=True, segment="x")
    t0, c0 = time.perf_counter(), time.process_time()
    c = time.process_time()
    zh_text.compact(text)  # the shared first pass, on its own line (later callers hit the cache)
    clock.cpu["compact"] = time.process_time() - c
    r = engine.process(u)
    return time.perf_counter() - t0, time.process_time() - c0, clock.cpu, len(r.warnings)


def part_engine(kb, longest: int) -> None:
    print("1. one utterance through AssistEngine.process, shipped KB, lexical (s; target <= 2 s at 1,000,000)")
    print("   stage columns: CPU seconds inside that stage")
    stages = ("compact", "keys", "faq", "stages", "party", "compliance")
    print(f"   {'chars':>9s} {'content':10s} {'wall':>6s} {'cpu':>6s}  " + " ".join(f"{s:>10s}" for s in stages) + "  warnings")
    n = 10_000
    while n <= longest:
        for name, make in MAKERS.items():
            wall, cpu, per, warnings = one(kb, make(n))
            print(f"   {n:>9,d} {name:10s} {wall:6.2f} {cpu:6.2f}  "
                  + " ".join(f"{per.get(s, 0.0):10.3f}" for s in stages) + f"  {warnings}")
        n *= 10


def _cpu(fn, *a) -> float:
    c = time.process_time()
    fn(*a)
    return time.process_time() - c


def part_output(longest: int) -> None:
    print(f"2. what else a {longest:,d}-character line meets (CPU s)")
    for name, make in MAKERS.items():
        text = make(longest)
        print(f"   {name:10s} masking {_cpu(mask_text, text):6.3f}  printable {_cpu(printable, text):6.3f}"
              f"  json {_cpu(lambda t: json.dumps({'text': t}, ensure_ascii=False), text):6.3f}")


def part_analyze(longest: int, kb_dir: str | None) -> None:
    print(f"3. assist analyze on a one-line transcript (child process; start-up included)")
    with tempfile.TemporaryDirectory() as d:
        cases = {"(empty: start-up)": None, **{k: v(longest) for k, v in MAKERS.items()}}
        for name, text in cases.items():
            path = os.path.join(d, "t.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                if text is not None:
                    f.write(json.dumps({"speaker": "unknown", "text": text, "start": 0, "end": 1}, ensure_ascii=False) + "\n")
            cmd = [sys.executable, "-m", "assist", "analyze", path] + (["--kb", kb_dir] if kb_dir else [])
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            print(f"   {name:18s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  exit {done.returncode}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb")
    ap.add_argument("--long", type=int, default=1_000_000)
    ap.add_argument("--analyze", action="store_true", help="also time assist analyze end to end")
    args = ap.parse_args()
    kb = load_kb(args.kb)
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores; figures under this load)")
    part_engine(kb, args.long)
    part_output(args.long)
    if args.analyze:
        part_analyze(args.long, args.kb)


if __name__ == "__main__":
    main()
