"""One vosk recognizer per channel, in its own worker thread, turning blocks into utterances.

Thread ``asr-<channel>`` reads its channel's queue (filled by a capture
callback or a WAV feeder), meters the level, resamples to the model's rate
with soxr's streaming resampler (it keeps filter state across blocks, so block
edges do not click), and feeds vosk. It calls ``on_utterance`` with
``assist.events.Utterance``:

- partials (``final=False``) only when their text changes, and at most one
  every ``partial_interval`` seconds of audio (a changed text that arrives
  sooner waits for the next block after the interval, so the latest words are
  never held back longer than that); and once more, unchanged, when the
  speaker has paused and the words held for ``partial_interval`` (a *held*
  partial: the engine may act on it before the silence rule closes the
  sentence);
- finals with word times (seconds from call start) and confidences, when
  vosk's endpointer sees the speaker stop, or earlier when the channel has
  been quieter than its running background level for ``silence_timeout``
  seconds of audio, or the partial text has not changed for
  ``stuck_timeout`` seconds (then ``FinalResult`` is forced, so a final never
  waits for the next speech), or when a gap in the audio or the end of the
  source closes the stretch, or when listening is paused (``FLUSH`` on the queue).

Endpointing: vosk's own endpointer is set with ``SetEndpointerMode`` /
``SetEndpointerDelays`` where the installed vosk has them (vosk 0.3.45, the
newest wheel on PyPI, exports neither: its endpointer then keeps the model's
``conf/model.conf`` rules, 0.5 s of trailing silence at the shortest). The
project's own silence rule is what closes a sentence first: ``silence_timeout``
(``SILENCE_TIMEOUT`` by default) was chosen with ``bench/bench_audio.py
--sweep``, the shortest trailing silence that does not split sentences at
hesitation pauses (figures in the module's constants below).

Silence is not recognized: ``assist.asr.gate.SpeechGate`` says which blocks are
speech, and once nothing is pending (no words since the last final) and the
channel has been quiet for ``GATE_AFTER`` seconds, the recognizer stops feeding
vosk (*closes*) until speech comes again, when it feeds the held pre-roll
first. On a call each side is quiet while the other talks: this halved what
two channels cost (figures in the issue-14 notes and ``bench/bench_audio.py``).

Partials and the final of one stretch of speech share a segment id such as
``agent-7``. Vosk's word times count the samples it was fed since the
recognizer was made, so every contiguous run of audio gets a fresh recognizer,
and each place where feeding resumed after the gate was closed is an *anchor*
(fed position -> call time) that maps vosk's times back to the call's clock;
short gaps (dropped blocks) are filled with silence instead, to keep the clock
aligned. A gap longer than ``MAX_PADDED_GAP`` starts a new run.
"""
from __future__ import annotations

import bisect
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from assist.asr.gate import SpeechGate
from assist.asr.models import ModelMissing, check_model, fix_command, model_sample_rate
from assist.audio.block import END, FLUSH, AudioBlock
from assist.audio.level import LevelMeter
from assist.events import SPEAKER_LABELS, DeviceProblem, Speaker, Utterance, Word

log = logging.getLogger(__name__)

# Gaps shorter than this are filled with silence; longer ones start a new run.
MAX_PADDED_GAP = 1.0
# Trailing silence (audio seconds, measured in 100 ms blocks) that closes a sentence.
# Chosen by `bench/bench_audio.py --sweep` on 12 tuning sentences, each with one
# hesitation pause of 200-700 ms (2026-11-28, shared 2-core machine; the sweep counts
# audio time, so load does not change it): sentences split / final lag after the last
# word at 0.2 s 11/12 300 ms, 0.3 s 6/12 395 ms, 0.4 s 3/12 510 ms, 0.5 s 1/12 600 ms,
# 0.6 s 0/12 680 ms, 0.8 s 0/12 880 ms. 0.6 s is the shortest that split none. Shorter
# vosk endpoint rules (rule2 0.2-0.3 s, rule3 0.6-0.7 s, through a model conf) did not
# tell hesitations from ends either (1/12 split at 0.7 s, 8/12 at 0.3 s).
SILENCE_TIMEOUT = 0.6
# At most one partial per this many audio seconds: the engine evaluates each one,
# and 5 a second is as fast as a reader can follow (and a quarter of vosk's rate).
PARTIAL_INTERVAL = 0.2
# vosk >= 0.3.47 lets the endpointer be set per recognizer: (t_start_max, t_end, t_max)
# seconds: give up on leading silence, trailing silence that ends a sentence, longest
# sentence. The trailing silence matches our own rule so both close together.
ENDPOINTER_DELAYS = (5.0, SILENCE_TIMEOUT, 30.0)
# Quiet (no speech block) this long after a final closes the gate: short, because
# reopening costs nothing but the pre-roll. (Speech that gave no words yet waits
# ``silence_timeout`` instead, then a FinalResult settles it.)
GATE_AFTER = 0.3

_cache: dict[Path, "LoadedModel"] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class LoadedModel:
    path: Path
    rate: int
    vosk_model: object
    load_seconds: float


def load_model(path: str | Path) -> LoadedModel:
    """Load (once per process) the vosk model in ``path``; raises ``ModelMissing`` if it is unusable.

    Runs in the caller's thread and takes seconds for a real model; the loaded
    model is shared read-only by every channel's recognizer.
    """
    path = Path(path).resolve()
    with _cache_lock:
        if path in _cache:
            return _cache[path]
        missing = check_model(path)
        if missing:
            raise ModelMissing(f"模型文件夹 {path} 不完整（缺少 {'、'.join(missing)}）", fix_command())
        import vosk

        vosk.SetLogLevel(-1)  # Kaldi's log lines would bury the transcript
        began = time.perf_counter()
        try:
            model = vosk.Model(str(path))
        except Exception as e:
            raise ModelMissing(f"vosk 无法加载 {path} 里的模型（{e}）", fix_command()) from None
        loaded = LoadedModel(path, model_sample_rate(path), model, time.perf_counter() - began)
        _cache[path] = loaded
        return loaded


@dataclass
class RecognizerStats:
    audio_seconds: float = 0.0
    fed_seconds: float = 0.0  # audio given to vosk (the rest was silence the gate skipped)
    gate_opened: int = 0  # times speech reopened the gate
    busy_seconds: float = 0.0  # wall time spent resampling + recognizing
    partials: int = 0
    finals: int = 0
    runs: int = 0  # contiguous stretches of audio (1 + gaps)
    errors: int = 0
    final_lags: list[float] = field(default_factory=list)  # audio seconds from last word to final
    final_at: dict[str, float] = field(default_factory=dict)  # segment -> call time (audio) of its final

    @property
    def real_time_factor(self) -> float:
        return self.busy_seconds / self.audio_seconds if self.audio_seconds else 0.0


class ChannelRecognizer:
    def __init__(self, model: LoadedModel, channel: Speaker, source: queue.Queue, *,
                 on_utterance: Callable[[Utterance], None], publish: Callable[[object], None],
                 silence_timeout: float = SILENCE_TIMEOUT, stuck_timeout: float = 1.5,
                 partial_interval: float = PARTIAL_INTERVAL, gate: bool = True):
        """``gate=False`` feeds every block to vosk (the bench's and the tests' A/B)."""
        self.model = model
        self.channel = channel
        self._source = source
        self._on_utterance = on_utterance
        self._publish = publish
        self._silence_timeout = silence_timeout
        self._stuck_timeout = stuck_timeout
        self._partial_interval = partial_interval
        self._gate_on = gate
        self._gate: SpeechGate | None = None  # per run, at the model's rate
        self._closed = False  # the gate is closed: blocks are held, vosk is not fed
        self._pending = False  # speech was fed since the last final: words may still come
        self._voiced_at = 0.0  # run position of the end of the last block louder than the background
        self._meter = LevelMeter(channel, publish)
        self.stats = RecognizerStats()
        self._thread: threading.Thread | None = None
        self._rec: Any = None  # vosk.KaldiRecognizer of the current run (vosk has no types)
        self._resampler: Any = None
        self._in_rate = 0
        self._anchors: list[tuple[float, float]] = []  # (fed position, call time) where feeding (re)began
        self._expected: float | None = None  # call time where the next block should start
        self._pos = 0.0  # seconds fed into the current run
        self._segment_no = 1
        self._segment_start = 0.0  # run position where the current segment began
        self._partial = ""
        self._partial_changed_at = 0.0  # run position of the last partial change
        self._sent = ""  # the partial text last sent on
        self._sent_at = float("-inf")  # run position when it was sent
        self._held_sent = False  # the current text was re-sent as held
        self.endpointer = "model"  # how vosk's own endpointer is set: "api" or the model's conf

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"asr-{self.channel}", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # -- worker thread -----------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._source.get()
            if item is END:
                break
            try:
                if item is FLUSH:  # listening paused: the words so far are a final now, not after the pause
                    self._finish_run()
                    continue
                self._feed(item)
            except Exception as e:  # keep draining the queue so the source never blocks
                self.stats.errors += 1
                if self.stats.errors == 1:
                    # the agent reads this: what happened and that the call goes on; the library's
                    # (English) detail goes to the log
                    log.warning("recognizer error on the %s channel: %r", self.channel, e)
                    self._publish(DeviceProblem(self.channel, f"{SPEAKER_LABELS.get(self.channel, self.channel)}声道"
                                                "的语音识别出错，这一段没有文字（详情已写入日志）；通话照常进行"))
        try:
            self._finish_run()
        except Exception:
            self.stats.errors += 1

    def _new_run(self, block: AudioBlock) -> None:
        import soxr
        import vosk

        self._rec = vosk.KaldiRecognizer(self.model.vosk_model, self.model.rate)
        self._rec.SetWords(True)
        if hasattr(self._rec, "SetEndpointerDelays"):  # vosk >= 0.3.47; absent in 0.3.45
            self._rec.SetEndpointerDelays(*ENDPOINTER_DELAYS)
            self.endpointer = "api"
        self._in_rate = block.rate
        self._resampler = (soxr.ResampleStream(block.rate, self.model.rate, 1, dtype="int16")
                           if block.rate != self.model.rate else None)
        self._gate = SpeechGate(self.model.rate)
        self._closed = False
        self._pending = False
        self._anchors = [(0.0, block.t)]
        self._expected = block.t
        self._pos = 0.0
        self._segment_start = 0.0
        self._partial = ""
        self._partial_changed_at = 0.0
        self._sent, self._sent_at = "", float("-inf")
        self._held_sent = False
        self._voiced_at = 0.0
        self.stats.runs += 1

    def _finish_run(self) -> None:
        """Flush the resampler and recognizer at a gap or at the end of the source."""
        if self._rec is None:
            return
        began = time.perf_counter()
        if self._resampler is not None and not self._closed:
            tail = self._resampler.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
            if len(tail):
                self._rec.AcceptWaveform(tail.tobytes())
        result = self._rec.FinalResult()
        self.stats.busy_seconds += time.perf_counter() - began
        self._emit_final(result)
        self._rec = None

    def _at(self, pos: float) -> float:
        """Call time of a fed position of the current run (vosk's clock -> the call's)."""
        # vosk rounds its times to 10 ms and our positions add up floats: a word that starts
        # where feeding resumed must map through that anchor, not the one before it
        i = bisect.bisect_right(self._anchors, (pos + 0.005, float("inf"))) - 1
        fed, t = self._anchors[max(i, 0)]
        return t + pos - fed

    def _feed(self, block: AudioBlock) -> None:
        self._meter.feed(block.samples, block.rate)
        self.stats.audio_seconds += block.duration
        samples = block.samples
        t = block.t
        if self._rec is not None and self._expected is not None:
            gap = block.t - self._expected
            if block.rate != self._in_rate or gap < -0.05 or gap > MAX_PADDED_GAP:
                self._finish_run()
            elif gap > 0.01 and not self._closed:
                samples = np.concatenate([np.zeros(int(gap * block.rate), dtype=np.int16), samples])
                t = self._expected
        if self._rec is None:
            self._new_run(block)
        assert self._gate is not None
        self._expected = block.end
        began = time.perf_counter()
        data = self._resampler.resample_chunk(samples) if self._resampler is not None else samples
        data = np.ascontiguousarray(data, dtype=np.int16)
        heard = self._gate.hear(data)
        if self._closed:
            self._gate.hold(t, data)
            if not heard.speech:
                self.stats.busy_seconds += time.perf_counter() - began
                return  # silence while closed: vosk does not hear it
            self._closed = False
            self.stats.gate_opened += 1
            held = self._gate.release()
            self._anchors.append((self._pos, held[0][0]))
            data = np.concatenate([d for _, d in held])
        self._pending = self._pending or heard.speech
        self._pos += len(data) / self.model.rate
        if heard.loud:
            self._voiced_at = self._pos
        self.stats.fed_seconds += len(data) / self.model.rate
        is_final = self._rec.AcceptWaveform(data.tobytes())
        if is_final:
            result = self._rec.Result()
        else:
            result = None
            partial = json.loads(self._rec.PartialResult()).get("partial", "")
        self.stats.busy_seconds += time.perf_counter() - began
        if is_final:
            self._emit_final(result)
            self._maybe_close()
            return
        changed = partial != self._partial
        if changed:
            self._partial = partial
            self._partial_changed_at = self._pos
        elif partial and (self._pos - self._voiced_at >= self._silence_timeout
                          or self._pos - self._partial_changed_at >= self._stuck_timeout):
            # The speaker went quiet (or the words stopped changing) but vosk's
            # endpointer has not fired yet (it waits 0.5-1 s, longer in noise):
            # close the segment now so the panel gets a final promptly.
            began = time.perf_counter()
            result = self._rec.FinalResult()
            self.stats.busy_seconds += time.perf_counter() - began
            self._emit_final(result)
            self._maybe_close()  # at once: a fresh vosk utterance on the line's noise makes junk words
            return
        interval = self._partial_interval - 1e-6
        if partial and partial != self._sent and self._pos - self._sent_at >= interval:
            self._sent, self._sent_at, self._held_sent = partial, self._pos, False
            self._send_partial(partial)
        elif not partial:
            self._maybe_close()
        elif (partial and partial == self._sent and not self._held_sent and self._pos - self._sent_at >= interval
              and self._pos - self._partial_changed_at >= interval and self._pos - self._voiced_at >= interval):
            # The speaker paused and the words held: send them once more, later in the audio,
            # so the engine can act before the silence rule closes the sentence.
            self._held_sent, self._sent_at = True, self._pos
            self._send_partial(partial)

    def _send_partial(self, text: str) -> None:
        self.stats.partials += 1
        self._on_utterance(Utterance(
            speaker=self.channel, text=text, start=round(self._at(self._segment_start), 3),
            end=round(self._at(self._pos), 3), final=False, segment=self._segment_id()))

    def _maybe_close(self) -> None:
        """Stop feeding vosk once the channel is quiet and no words are pending (after a final).

        ``FinalResult`` settles what vosk holds first: speech fed since the last final
        that gave no partial yet (a short word, a blip) becomes a final, so closing
        never loses words, and vosk's next utterance starts where feeding resumes
        (else it may stretch a first word back over the audio fed before closing).
        It costs ~20 ms of CPU once per pause.
        """
        if not self._gate_on or self._closed or self._partial or self._gate is None:
            return
        # Speech since the last final but no words yet: wait as long as the silence rule
        # would, so a first short word vosk has not shown yet is not cut off at a hesitation.
        if self._gate.quiet_for < (self._silence_timeout if self._pending else GATE_AFTER):
            return
        began = time.perf_counter()
        result = self._rec.FinalResult()
        self.stats.busy_seconds += time.perf_counter() - began
        self._emit_final(result)
        self._closed = True
        self._gate.drop()

    def _segment_id(self) -> str:
        return f"{self.channel}-{self._segment_no}"

    def _emit_final(self, result_json: str) -> None:
        result = json.loads(result_json)
        text = result.get("text", "").strip()
        had_partial = bool(self._sent)  # shown to anyone: the final must close it
        self._partial = ""
        self._partial_changed_at = self._pos
        self._sent, self._sent_at, self._held_sent = "", float("-inf"), False
        self._pending = False
        if not text and not had_partial:
            self._segment_start = self._pos
            return  # silence: nothing was shown, nothing to close
        words = tuple(
            Word(text=w["word"], start=round(self._at(w["start"]), 3), end=round(self._at(w["end"]), 3),
                 confidence=round(float(w.get("conf", 1.0)), 3))
            for w in result.get("result", ())
        )
        if words:
            start, end = words[0].start, words[-1].end
            confidence = round(sum(w.confidence for w in words) / len(words), 3)
            self.stats.final_lags.append(round(self._at(self._pos) - end, 3))
        else:
            start, end, confidence = self._at(self._segment_start), self._at(self._pos), None
        utterance = Utterance(speaker=self.channel, text=text, start=round(start, 3), end=round(end, 3),
                              final=True, segment=self._segment_id(), confidence=confidence, words=words)
        self.stats.final_at[utterance.segment] = round(self._at(self._pos), 3)
        self._segment_no += 1
        self._segment_start = self._pos
        self.stats.finals += 1
        self._on_utterance(utterance)
