"""Engine latency per utterance with synthetic knowledge bases of 100, 1,000 and 10,000 FAQs.

    .venv/bin/python bench/bench_engine.py [--sizes 100 1000 10000] [--utterances 400]

Each synthetic FAQ is built from random domain words (so sounds overlap the
way real FAQs do) with a question and five paraphrases; the real playbooks and
compliance rules are kept. Utterances are customer questions, agent script
lines and small talk, fed as a live call would: every growing partial and then
the final. Prints p50/p95/max per final and per partial, and build time.
Single-threaded, so it measures one core.
"""
from __future__ import annotations

import argparse
import random
import statistics
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


def run(size: int, n_utt: int, seed: int = 7):
    rng = random.Random(seed)
    base = load_kb()
    faqs = synthetic_faqs(size, rng)
    kb = replace(base, faqs=faqs)
    t0 = time.perf_counter()
    engine = AssistEngine(kb)
    build = time.perf_counter() - t0
    finals, partials = [], []
    for speaker, text in utterances(kb, faqs, n_utt, rng):
        words = text.split() if " " in text else list(text)
        for k in range(1, len(words)):
            t = time.perf_counter()
            engine.process(Utterance(speaker, " ".join(words[:k]), final=False))
            partials.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        engine.process(Utterance(speaker, text, final=True))
        finals.append((time.perf_counter() - t) * 1000)
    return build, finals, partials


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--utterances", type=int, default=400)
    a = ap.parse_args()
    print(f"{'FAQs':>6} {'build s':>8} {'final p50':>10} {'final p95':>10} {'final max':>10} "
          f"{'partial p50':>12} {'partial p95':>12} {'n final/partial':>16}")
    for size in a.sizes:
        build, finals, partials = run(size, a.utterances)
        print(f"{size:>6} {build:>8.2f} {statistics.median(finals):>9.2f}ms {pct(finals, 95):>9.2f}ms "
              f"{max(finals):>9.2f}ms {statistics.median(partials):>11.2f}ms {pct(partials, 95):>11.2f}ms "
              f"{len(finals):>7}/{len(partials)}")


if __name__ == "__main__":
    main()
