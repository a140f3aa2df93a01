"""Session-store benchmark: live insert latency, and review speed with many stored calls.

    .venv/bin/python bench/bench_store.py [--calls 10000] [--utts 40] [--live 500] [--db PATH]

1. Fills a fresh database with ``--calls`` calls of ``--utts`` utterances each
   (bulk inserts through sqlite-utils, one transaction), with warnings, FAQ hits,
   suggestions and stage changes in realistic proportions.
2. Records one more live call through SessionRecorder (``--live`` final utterances,
   each committed with synchronous=FULL as in production) while a reader thread
   keeps reading it, and reports the per-utterance latency of ``recorder(event)``.
3. Times ``assist sessions list`` and ``show`` in-process (main([...])) and as a
   fresh process (includes Python start-up), plus the store calls the review window uses.
Prints a table of figures. Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assist.events import (  # noqa: E402
    AssistResult,
    CallEnded,
    CallStarted,
    ComplianceWarning,
    FaqHit,
    StageState,
    Suggestion,
    Utterance,
)
from assist.store import SessionRecorder, open_store  # noqa: E402
from percentile import pct  # noqa: E402  (bench/percentile.py, beside this script)

CUSTOMER = ["我最近手头确实紧张", "能不能延期还款", "两天内先还一万", "你们利息怎么算的", "我手机13812345678",
            "下周五前还3000元", "我再考虑一下", "为什么要收这么多手续费"]
AGENT = ["您好 我是长江分期的客服 请问是张强先生吗", "您的账单已经逾期了 一共欠款两万元", "我们可以帮您申请展期",
         "请问您目前的还款能力怎么样", "好的 感谢您的配合 再见", "你再不还我们就起诉你"]


def fill(store, calls: int, utts: int) -> float:
    """Bulk-load ``calls`` finished calls; return seconds taken."""
    t = time.perf_counter()
    db = store.db
    rnd = random.Random(7)
    base = time.time() - 365 * 86400
    db.execute("PRAGMA synchronous = OFF")  # a bulk load, not a live call: durability per row not needed
    sessions, utterances, warnings, faqs, suggestions, stages = [], [], [], [], [], []
    uid = 0
    for c in range(calls):
        sid = f"{c:06d}{rnd.getrandbits(24):06x}"
        t0 = base + c * 3000
        sessions.append({"id": sid, "playbook_id": "changjiang_extension", "started_at": t0,
                         "ended_at": t0 + utts * 4.0, "status": "ended", "devices": "{}", "model": "bench",
                         "kb_version": "bench", "notes": "", "masked": 1, "owner_pid": 0,
                         "stages_done": json.dumps(list(range(1, 6)))})
        for i in range(utts):
            uid += 1
            agent = i % 2 == 0
            utterances.append({"id": uid, "session_id": sid, "speaker": "agent" if agent else "customer",
                               "text": rnd.choice(AGENT if agent else CUSTOMER), "start_s": i * 4.0,
                               "end_s": i * 4.0 + 3.0, "confidence": 0.9, "segment": f"s{i}",
                               "recorded_at": t0 + i * 4.0})
            if not agent and i % 6 == 1:
                faqs.append({"session_id": sid, "utterance_id": uid, "faq_id": "cj_extend", "question": "能不能延期",
                             "answer": "可以申请展期", "score": 0.8, "shown": 1, "matched": "", "used": 0})
            if agent and i % 8 == 0:
                suggestions.append({"session_id": sid, "utterance_id": uid, "text": f"第{i}句话术",
                                    "stage_index": 1 + i // 8, "kind": "current_stage", "line_id": "", "used": 0})
                stages.append({"session_id": sid, "utterance_id": uid, "playbook_id": "changjiang_extension",
                               "stage_index": 1 + i // 8, "stage_id": f"s{1 + i // 8}", "title": "阶段",
                               "at_s": i * 4.0})
            if agent and rnd.random() < 0.03:
                warnings.append({"session_id": sid, "utterance_id": uid, "rule_id": "false_criminal_threat",
                                 "severity": "critical", "title": "恐吓", "message": "请改说", "source": "kb",
                                 "span_start": 0, "span_end": 2, "said": "起诉", "acknowledged": 0})
    with db.atomic():
        for name, rows in (("sessions", sessions), ("utterances", utterances), ("warnings", warnings),
                           ("faq_hits", faqs), ("suggestions", suggestions), ("stages", stages)):
            db[name].insert_all(rows, batch_size=2000)
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - t


def live_call(store, n: int) -> tuple[list[float], int]:
    """Record one call through the recorder while a reader reads it; return per-utterance ms and reads done."""
    rec = SessionRecorder(store)
    sid = "livebench01"
    rec(CallStarted(session_id=sid, playbook_id="changjiang_extension", started_at=time.time()))
    stop = threading.Event()
    reads = [0]

    def reader():
        with open_store(store.path) as review:
            while not stop.is_set():
                review.bundle(sid)
                reads[0] += 1

    th = threading.Thread(target=reader)
    th.start()
    lat = []
    for i in range(n):
        agent = i % 2 == 0
        text = random.choice(AGENT if agent else CUSTOMER)
        result = AssistResult(
            utterance=Utterance("agent" if agent else "customer", text, start=i * 3.0, end=i * 3.0 + 2.5),
            faq=() if agent else (FaqHit("cj_extend", "能不能延期", "可以申请展期", 0.8, True),),
            stage=StageState("changjiang_extension", 1 + i // 60, f"s{1 + i // 60}", "阶段"),
            suggestions=(Suggestion(f"第{i // 10}句话术", 1, "current_stage"),),
            warnings=(ComplianceWarning("r", "critical", "t", "m", "s", (0, 2), text[:2]),) if i % 25 == 0 else (),
            stages_done=tuple(range(1, 2 + i // 60)), playbook_id="changjiang_extension")
        t = time.perf_counter()
        rec(result)
        lat.append((time.perf_counter() - t) * 1000)
    rec(CallEnded(sid, time.time()))
    rec.close()
    stop.set()
    th.join()
    return lat, reads[0]


def timed(fn, repeat: int = 5) -> float:
    """Median wall time of ``fn()`` in ms."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def cli_in_process(*argv) -> None:
    from assist.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(list(argv)) == 0


def cli_subprocess(*argv) -> None:
    subprocess.run([sys.executable, "-m", "assist", *argv], check=True, stdout=subprocess.DEVNULL,
                   cwd=Path(__file__).resolve().parents[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--utts", type=int, default=40, help="utterances per stored call")
    ap.add_argument("--live", type=int, default=500, help="final utterances in the live call")
    ap.add_argument("--db", help="database file (default: a temporary one)")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    path = Path(args.db) if args.db else Path(tmp.name) / "sessions.db"
    os.environ["ASSIST_DATA_DIR"] = str(path.parent)
    rows = []
    t = time.perf_counter()
    store = open_store(path)
    rows.append(("open_store (new file)", f"{(time.perf_counter() - t) * 1000:.1f} ms"))
    secs = fill(store, args.calls, args.utts)
    rows.append((f"bulk load {args.calls} calls x {args.utts} utterances", f"{secs:.1f} s"))
    lat, reads = live_call(store, args.live)
    rows.append((f"live insert per final utterance (n={len(lat)}) p50", f"{pct(lat, 50):.2f} ms"))
    rows.append(("live insert p95", f"{pct(lat, 95):.2f} ms"))
    rows.append(("live insert p99 / max", f"{pct(lat, 99):.2f} / {max(lat):.2f} ms"))
    rows.append(("reader bundle() reads during the live call", f"{reads} (none blocked)"))
    store.close()

    t = time.perf_counter()
    store = open_store(path)
    rows.append((f"open_store ({args.calls + 1} calls on file)", f"{(time.perf_counter() - t) * 1000:.1f} ms"))
    some = store.list_sessions(limit=1, offset=args.calls // 2)[0]["id"]
    rows.append(("store.list_sessions(50) newest page", f"{timed(lambda: store.list_sessions(50)):.1f} ms"))
    rows.append(("store.list_sessions(50) last page",
                 f"{timed(lambda: store.list_sessions(50, offset=args.calls - 50)):.1f} ms"))
    rows.append(("store.bundle(id) one stored call", f"{timed(lambda: store.bundle(some)):.1f} ms"))
    rows.append(("store.summary(id) (KB loaded once)", f"{timed(lambda: store.summary(some)):.1f} ms"))
    rows.append(("store.resolve_id(6-char prefix)", f"{timed(lambda: store.resolve_id(some[:6])):.2f} ms"))
    db = str(path)
    rows.append(("`sessions list` in-process",
                 f"{timed(lambda: cli_in_process('sessions', '--db', db, 'list')):.1f} ms"))
    rows.append(("`sessions show ID` in-process",
                 f"{timed(lambda: cli_in_process('sessions', '--db', db, 'show', some)):.1f} ms"))
    rows.append(("`sessions show` live call (500 utts)",
                 f"{timed(lambda: cli_in_process('sessions', '--db', db, 'show', 'livebench01')):.1f} ms"))
    rows.append(("`assist sessions list` new process",
                 f"{timed(lambda: cli_subprocess('sessions', '--db', db, 'list'), 3):.0f} ms"))
    rows.append(("`assist sessions show ID` new process",
                 f"{timed(lambda: cli_subprocess('sessions', '--db', db, 'show', some), 3):.0f} ms"))
    rows.append(("database size", f"{path.stat().st_size / 1e6:.1f} MB"))
    store.close()

    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 14}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
