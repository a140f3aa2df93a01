"""How long the post-call check takes on a 30-minute call (target: at most 1 s).

    .venv/bin/python bench/bench_post_call.py [--minutes 30] [--runs 5]

Builds a long call from realistic lines (identity exchange, a third party who turns out
to be the debtor, negotiation, promises, a few violations), one utterance every 3 s per
speaker turn, and runs ``post_call_check`` over it with the shipped knowledge base: the
first run in a fresh process (patterns compiled, pinyin caches cold) and then warm runs.
Prints the figures; asserts nothing (the machine is shared, figures vary with load).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assist.engine.post_call import post_call_check  # noqa: E402
from assist.events import Utterance  # noqa: E402
from assist.knowledge import load_kb  # noqa: E402

OPENING = [
    ("agent", "喂 您好 我是长江分期的客服专员李明 请问是张强先生本人吗"),
    ("customer", "我不是他 你打错了吧"),
    ("agent", "这是张强先生登记的号码 您确定吗"),
    ("customer", "唉 好吧 是我 什么事"),
]
BODY = [
    ("agent", "张先生 您这期分期三千二百元 本周五到期 账户余额还不够"),
    ("customer", "这个月手头确实有点紧 能不能晚几天"),
    ("agent", "理解 我们可以帮您申请展期 只收一次标准手续费 按剩余本金的百分之一收取"),
    ("customer", "展期会影响征信吗"),
    ("agent", "按新的还款计划按时还款 不会留下负面记录 每个月十五号还款"),
    ("customer", "那利息能不能免了"),
    ("agent", "减免需要按公司政策提交申请 结果以审批为准"),
    ("customer", "我 下 周 五 之 前 先 还 两 千"),
    ("agent", "好的 我帮您记录一下 下周五前还两千元"),
    ("customer", "你们不会找我家里人吧"),
    ("agent", "不会的 我们只和您本人沟通"),
    ("agent", "再不还我们就把你拉进黑名单"),
    ("agent", "我个人可以给你把罚息全免了"),
    ("customer", "你这是威胁我吗"),
    ("agent", "抱歉 我说错了 逾期会如实上报征信 影响您以后的贷款"),
]


def build_call(minutes: float) -> list[Utterance]:
    lines = list(OPENING)
    while len(lines) * 3.0 < minutes * 60:
        lines += BODY
    out, t = [], 0.0
    for speaker, text in lines[: int(minutes * 60 / 3.0)]:
        out.append(Utterance(speaker, text, start=t, end=t + 2.5))
        t += 3.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    kb = load_kb()
    call = build_call(a.minutes)
    t0 = time.perf_counter()
    first = post_call_check(kb, call)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        post_call_check(kb, call)
        warm.append(time.perf_counter() - t0)
    print(f"post-call check, {a.minutes:g}-minute call, {len(call)} utterances, "
          f"{len(first.findings)} findings (shared 2-core machine, others' jobs running)")
    print(f"| run | seconds |\n|---|---:|\n| first (cold caches) | {cold:.3f} |")
    print(f"| warm, median of {a.runs} | {statistics.median(warm):.3f} |\n| warm, max | {max(warm):.3f} |")


if __name__ == "__main__":
    main()
