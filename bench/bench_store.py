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
4. Issue 11's targets (skip with ``--no-targets``):
   a. ``--rate`` (200) utterances/s sustained for ``--sustain`` s into the recorder while a
      reader reads: engine-side cost of ``recorder(event)`` p50/p99, the most records ever
      waiting, and whether every one is in the store;
   b. another process holds an exclusive lock for ``--lock-seconds`` (20) while a replayed call
      runs through the real engine: per-utterance suggestion time vs. the same call unlocked
      (count later than 100 ms beyond usual), and utterances lost after the lock is released;
   c. encryption cost: the same record writes into an encrypted and a plaintext file (and one in
      the cipher format stores had before, for comparison), in interleaved rounds;
   d. ``--kills`` (50) times: a recording process is killed with SIGKILL mid-call; the store must
      open and hold every utterance the process had acknowledged (recorder.flush()).
Prints a table of figures. Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
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


def sustained(store, rate: float, seconds: float) -> dict:
    """Feed ``rate`` final utterances a second for ``seconds``; engine-side cost and the writer's backlog."""
    rec = SessionRecorder(store)
    sid = "sustain01"
    rec(CallStarted(session_id=sid, playbook_id="changjiang_extension", started_at=time.time()))
    rec.wait_saved()
    n = int(rate * seconds)
    lat, backlog = [], 0
    t0 = time.perf_counter()
    for i in range(n):
        due = t0 + i / rate
        while time.perf_counter() < due:
            time.sleep(max(0.0, min(0.002, due - time.perf_counter())))
        result = AssistResult(utterance=Utterance("customer", f"第{i}句 {random.choice(CUSTOMER)}", start=i * 0.2,
                                                  end=i * 0.2 + 0.15),
                              faq=(FaqHit("cj_extend", "能不能延期", "可以申请展期", 0.8, True),),
                              playbook_id="changjiang_extension")
        t = time.perf_counter()
        rec(result)
        lat.append((time.perf_counter() - t) * 1000)
        if i % 50 == 0:
            backlog = max(backlog, rec.pending)
    fed_s = time.perf_counter() - t0
    t = time.perf_counter()
    rec.wait_saved(60)
    drain = time.perf_counter() - t
    rec.close()
    stored = len(store.utterances(sid))
    return {"n": n, "fed_s": fed_s, "lat": lat, "backlog": backlog, "drain_s": drain, "stored": stored}


LOCKER = """
import sys, time
from assist.store import driver
from assist.store.connection import open_keyed
from assist.store.keys import load_keys
conn, _ = open_keyed(lambda: driver.connect_encrypted(sys.argv[1]), load_keys().current)
conn.isolation_level = None
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def replay_call(store, lines, gap_s: float, lock_seconds: float | None) -> dict:
    """A replayed call through the real engine; with ``lock_seconds`` another process holds the lock."""
    from assist.call import Call
    from assist.engine import AssistEngine
    from assist.knowledge import load_kb

    kb = load_kb()
    # as the panel's KB loader and assembly.settle_heap do: the KB, alive all day, is frozen so a full
    # collection mid-call does not walk it (unfrozen: a 90-140 ms GIL hold, the late suggestion here)
    gc.collect()
    gc.freeze()
    problems = []
    rec = SessionRecorder(store, on_problem=problems.append)
    got = []
    call = Call(AssistEngine(kb), subscribers=(rec, lambda e: got.append(e) if isinstance(e, AssistResult) else None))
    locker = None
    if lock_seconds:
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(store.path), str(lock_seconds)],
                                  stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
        assert locker.stdout.readline().strip() == "locked"
    call.start()
    lat = []
    t_end = time.perf_counter() + (lock_seconds or 0)
    i = 0
    while i < len(lines) or time.perf_counter() < t_end:
        line = lines[i % len(lines)]
        u = Utterance(line.speaker, line.text, start=i * 2.0, end=i * 2.0 + 1.5, segment=f"b{i}")
        t = time.perf_counter()
        call.hear(u)  # the engine runs and the subscribers (panel, recorder) get the result on this thread
        lat.append((time.perf_counter() - t) * 1000)
        i += 1
        time.sleep(gap_s)
        if not lock_seconds and i >= len(lines):
            break
    call.end()
    if locker is not None:
        locker.wait()
    rec.close()
    stored = len(store.utterances(call.session_id))
    return {"lat": lat, "sent": i, "results": sum(1 for r in got if r.utterance.final), "stored": stored,
            "problems": problems}


def write_cost(path: Path, n: int, kind: str) -> tuple[float, float]:
    """Wall and CPU seconds for ``n`` one-utterance transactions through SessionStore.apply
    (synchronous=FULL, WAL). CPU time (this thread's) leaves out waiting for the disk and for other
    processes, so it shows the cipher's own work steadily on a busy machine; wall time is the target.

    ``kind``: 'encrypted' (the store as open_store makes it: connection.CURRENT), 'legacy' (encrypted
    in the format stores had before: SQLCipher's defaults, connection.LEGACY) or 'plain' (the same
    driver with no key and the same page size: only the encryption differs).
    """
    import sqlite_utils

    from assist.store import driver, writes
    from assist.store.connection import CURRENT, LEGACY, connect, unlock
    from assist.store.keys import load_keys
    from assist.store.migrations import migrate
    from assist.store.store import SessionStore

    key = load_keys(create=True).current
    path.touch(mode=0o600)
    if kind == "encrypted":
        conn = connect(path, writer=True, key=key)
    else:
        conn = driver.connect_encrypted(str(path), check_same_thread=False)
        conn.row_factory = driver.Row
        if kind == "legacy":
            unlock(conn, key, LEGACY)
        else:
            conn.execute(f"PRAGMA page_size = {CURRENT.page_size}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    migrate(sqlite_utils.Database(conn))
    store = SessionStore(path, conn, key=key)
    store.apply(writes.begin(CallStarted("cost01", "changjiang_extension", time.time()), "b", os.getpid()))
    t, cpu = time.perf_counter(), time.thread_time()
    for i in range(n):
        r = AssistResult(utterance=Utterance("customer", f"第{i}句 {CUSTOMER[i % len(CUSTOMER)]}", i, i + 1),
                         faq=(FaqHit("cj_extend", "能不能延期", "可以申请展期", 0.8, True),))
        store.apply(writes.utterance("cost01", r, f"k{i}", recorded_at=time.time(), stage_changed=False))
    secs, cpu = time.perf_counter() - t, time.thread_time() - cpu
    store.close()
    return secs, cpu


KILLED_WRITER = """
import sys, time
from assist.events import AssistResult, CallStarted, Utterance
from assist.store import SessionRecorder, open_store
store = open_store(sys.argv[1])
rec = SessionRecorder(store)
sid = sys.argv[2]
rec(CallStarted(session_id=sid, playbook_id="changjiang_extension", started_at=time.time()))
n = 0
while True:
    n += 1
    rec(AssistResult(utterance=Utterance("customer", f"{sid} 第{n}句 两天内先还一万", start=n, end=n + 0.5)))
    if n % 5 == 0:
        rec.flush()
        print(n, flush=True)  # acknowledged: everything up to n is durable
"""


def kill_loop(path: Path, times: int) -> dict:
    """SIGKILL a recording process mid-call ``times`` times; check each time what was acknowledged."""
    import signal

    opened, missing, acked_total, most = 0, 0, 0, 0
    for k in range(times):
        sid = f"kill{k:03d}"
        proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), sid], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, cwd=Path(__file__).resolve().parents[1])
        acked = 0
        deadline = None  # counted from the first acknowledgement: start-up time under load varies a lot
        while True:
            line = proc.stdout.readline()
            if not line:
                break
            acked = int(line)
            if deadline is None:
                deadline = time.perf_counter() + random.uniform(0.05, 0.5)
            if time.perf_counter() >= deadline:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for line in proc.stdout.read().split():
            acked = max(acked, int(line))
        try:
            with open_store(path) as store:
                opened += 1
                texts = {u["text"] for u in store.utterances(sid)}
        except Exception as e:  # noqa: BLE001 - the figure says it
            print(f"  kill {k}: store did not open: {e}", file=sys.stderr)
            continue
        missing += sum(1 for n in range(1, acked + 1) if f"{sid} 第{n}句 两天内先还一万" not in texts)
        acked_total += acked
        most = max(most, acked)
    return {"times": times, "opened": opened, "missing": missing, "acked": acked_total, "most": most}


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
    ap.add_argument("--no-targets", action="store_true", help="skip issue 11's targets (section 4)")
    ap.add_argument("--rate", type=float, default=200.0, help="utterances per second for the sustained run")
    ap.add_argument("--sustain", type=float, default=10.0, help="seconds of the sustained run")
    ap.add_argument("--lock-seconds", type=float, default=20.0)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--cost-writes", type=int, default=2000)
    ap.add_argument("--cost-rounds", type=int, default=5, help="interleaved plain/encrypted/earlier-format rounds")
    ap.add_argument("--only", choices=("a", "b", "c", "d"), action="append",
                    help="run only these targets of section 4, and skip sections 1-3 (repeatable)")
    args = ap.parse_args()
    if not os.environ.get("ASSIST_KEY_DIR"):  # never touch the user's real keys
        os.environ["ASSIST_KEY_DIR"] = tempfile.mkdtemp(prefix="bench-keys-")
        os.environ["ASSIST_KEY_STORE"] = "file"

    tmp = tempfile.TemporaryDirectory()
    path = Path(args.db) if args.db else Path(tmp.name) / "sessions.db"
    os.environ["ASSIST_DATA_DIR"] = str(path.parent)
    rows: list[tuple[str, str]] = []
    if not args.only:  # sections 1-3: review speed on a big store
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

    if not args.no_targets or args.only:
        targets(rows, Path(tmp.name), args)

    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 14}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    tmp.cleanup()


def targets(rows: list, folder: Path, args) -> None:
    only = set(args.only or "abcd")
    if "a" in only:
        target_a(rows, folder, args)
    if "b" in only:
        target_b(rows, folder, args)
    if "c" in only:
        target_c(rows, folder, args)
    if "d" in only:
        k = kill_loop(folder / "killed.db", args.kills)
        rows.append((f"[d] kill -9 mid-call x{k['times']}: store opened", f"{k['opened']} of {k['times']}"))
        rows.append(("[d] acknowledged utterances missing", f"{k['missing']} of {k['acked']} (target 0; up to "
                                                             f"{k['most']} in one run)"))


def target_a(rows: list, folder: Path, args) -> None:
    s = open_store(folder / "sustain.db")
    r = sustained(s, args.rate, args.sustain)
    s.close()
    rows.append((f"[a] {args.rate:.0f} utt/s for {args.sustain:.0f} s: fed in", f"{r['fed_s']:.1f} s ({r['n']} utts)"))
    rows.append(("[a] engine-side recorder(event) p50 / p99 / max",
                 f"{pct(r['lat'], 50):.3f} / {pct(r['lat'], 99):.3f} / {max(r['lat']):.2f} ms (target p99 <= 1)"))
    rows.append(("[a] most records waiting / drained after last", f"{r['backlog']} / {r['drain_s'] * 1000:.0f} ms"))
    rows.append(("[a] stored / sent", f"{r['stored']} / {r['n']}"))


def target_b(rows: list, folder: Path, args) -> None:
    from assist.demo import load_demo

    lines = load_demo()
    s = open_store(folder / "usual.db")
    usual = replay_call(s, lines, 0.05, None)
    s.close()
    s = open_store(folder / "locked.db")
    locked = replay_call(s, lines, 0.05, args.lock_seconds)
    s.close()
    base = pct(usual["lat"], 50)
    late = sum(1 for x in locked["lat"] if x > base + 100)
    rows.append(("[b] suggestion time unlocked p50 / p99", f"{base:.1f} / {pct(usual['lat'], 99):.1f} ms"))
    rows.append((f"[b] locked {args.lock_seconds:.0f} s: suggestion p50 / p99 / max",
                 f"{pct(locked['lat'], 50):.1f} / {pct(locked['lat'], 99):.1f} / {max(locked['lat']):.1f} ms"))
    rows.append(("[b] suggestions > 100 ms beyond usual (p50)", f"{late} of {len(locked['lat'])} (target 0)"))
    rows.append(("[b] utterances lost", f"{locked['sent'] - locked['stored']} of {locked['sent']} (target 0)"))
    said = "; ".join(dict.fromkeys(p.message[:40] for p in locked["problems"]))
    rows.append(("[b] what the panel was told", said[:120] or "—"))


def target_c(rows: list, folder: Path, args) -> None:
    n = args.cost_writes
    cost: dict[str, list[float]] = {"plain": [], "encrypted": [], "legacy": []}
    for i in range(args.cost_rounds):  # interleaved rounds: the machine's load moves more than the cipher costs
        for kind in cost:
            cost[kind].append(write_cost(folder / f"{kind}{i}.db", n, kind))
    wall = {k: statistics.median(w for w, _ in v) for k, v in cost.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in cost.items()}
    plain, enc, old = wall["plain"], wall["encrypted"], wall["legacy"]
    ratios = sorted(e[0] / p[0] - 1 for e, p in zip(cost["encrypted"], cost["plain"]))
    rows.append((f"[c] {n} one-utterance commits plain / encrypted (median of {args.cost_rounds})",
                 f"{plain:.2f} / {enc:.2f} s: {(enc / plain - 1) * 100:+.0f} % (target <= +20 %)"))
    rows.append(("[c] encrypted / plain per round, lowest .. highest",
                 " ".join(f"{r * 100:+.0f}%" for r in ratios)))
    rows.append(("[c] earlier format (4 KB pages, HMAC-SHA512), same rounds",
                 f"{old:.2f} s: {(old / plain - 1) * 100:+.0f} % over plain"))
    per = {k: v / n * 1e6 for k, v in cpu.items()}
    rows.append(("[c] CPU per commit plain / encrypted / earlier format",
                 f"{per['plain']:.0f} / {per['encrypted']:.0f} / {per['legacy']:.0f} us: cipher's own work "
                 f"+{per['encrypted'] - per['plain']:.0f} us now, +{per['legacy'] - per['plain']:.0f} us before"))


if __name__ == "__main__":
    main()
