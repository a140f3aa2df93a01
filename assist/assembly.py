"""One place that assembles a call from settings: knowledge base, engine, recorder, audio source.

The panel (``ui/app.py``), the terminal commands (``cli/audio.py``: ``listen``,
``replay``) and anything else that runs a call build it here, so a call is made
the same way everywhere:

- ``make_call(kb, playbook_id, subscribers, recording)``: an engine on the KB and a
  ``Call`` with the subscribers (panel bridge, terminal view) and the session
  recorder, in that order;
- ``open_recording(db)``: the session store and its recorder (one per process
  for the panel, one per call for the CLI);
- ``live_source`` / ``replay_source`` / ``demo_source``: what feeds the call,
  with the saved settings (devices by name, model folder) filled in where the
  caller gave nothing;
- ``start_source``: starts it, turning every "cannot start" problem (model,
  device, file, settings) into an ``AssistError`` with its fix;
- ``SpareEngine``: the next call's engine, built ahead on a worker thread, so that the
  panel's F8 does not build one on the GUI thread (~0.2 s of CPU with 10 000 FAQs);
- ``KbVectors``: the KB's sentence vectors, built on a worker thread while the lexical
  engine already serves, and given to every call made with it (running calls too), so
  a live call understands paraphrases as ``assist analyze`` does.

Qt-free. Runs in the caller's thread; ``start_source`` of a live source loads a
model (seconds), so the panel calls it from a worker thread.
"""
from __future__ import annotations

import gc
import logging
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from assist.errors import AssistError
from assist.knowledge.model import KnowledgeBase

if TYPE_CHECKING:  # imported where used: assist analyze must not load audio, a panel start not vosk;
    # and the panel imports this module on its GUI thread right after the first paint, so the
    # engine (numpy, pypinyin: 0.6 s of CPU holding that thread) comes in with the first call
    # or on the KB loader's worker, never here
    from assist.call import Call
    from assist.demo import DemoPlayer
    from assist.engine import AssistEngine
    from assist.engine.kb_semantics import KbSemantics
    from assist.listening import Listener, Replay

log = logging.getLogger(__name__)


class NoModel(AssistError):
    """No usable speech model: the fix is the command that installs one."""


class NoAudio(AssistError):
    """An input device cannot be used."""


class BadRecording(AssistError):
    """A recorded call (WAV) cannot be replayed."""


@dataclass
class Recording:
    """The session store and its recorder; ``close()`` flushes and returns how many events were lost."""

    store: Any
    recorder: Any
    warning: str = ""  # e.g. a damaged database was set aside and a new one started

    def close(self, close_store: bool = True) -> int:
        unsaved = int(self.recorder.close() or 0)
        if close_store:
            self.store.close()
        return unsaved


def make_engine(kb: KnowledgeBase, playbook_id: str | None = None) -> AssistEngine:
    """An engine on ``kb``, following ``playbook_id`` (None: detected from the call)."""
    from assist.engine import AssistEngine, UnknownPlaybook

    try:
        return AssistEngine(kb, playbook_id or None)
    except UnknownPlaybook:
        titles = "、".join(f"{pb.title}（'{pid}'）" for pid, pb in sorted(kb.playbooks.items()))  # the id is what --playbook takes
        raise AssistError(f"知识库里没有话术“{playbook_id}”", f"可选的话术：{titles}；不指定则按通话内容自动识别。") from None


def open_recording(db: str | Path | None = None, on_problem: Callable[[object], None] | None = None) -> Recording:
    """Open the session store (``db`` or the default in the data dir) and a recorder on it."""
    from assist.store import SessionRecorder, StoreError, open_store

    try:
        store = open_store(db)
    except StoreError as e:
        # the store's own fix when it has one (upgrade, unlock the keyring, free the disk): the generic
        # advice about the data folder would send the agent the wrong way
        raise AssistError(f"无法打开通话记录库：{e.message}",
                          e.fix or "检查数据目录（ASSIST_DATA_DIR）是否可写，或不保存本次通话（命令行：--no-store）。") from None
    recorder = SessionRecorder(store, on_problem=on_problem)
    return Recording(store, recorder, store.open_warning or "")


def build_kb_semantics(kb: KnowledgeBase, progress: Callable[[int, int], None] | None = None,
                       ) -> tuple[KbSemantics | None, str]:
    """The KB's sentence vectors (cached on disk), or None and why not, in Chinese.

    No encoder (switched off, not installed) and a broken model or cache alike give None:
    whoever asked goes on matching by wording. Caller's thread (seconds on a cold cache).
    """
    from assist.engine.kb_semantics import build_semantics
    from assist.semantics import EncoderUnavailable, load_encoder

    try:
        return build_semantics(kb, load_encoder(), progress=progress), ""
    except EncoderUnavailable as e:
        return None, str(e)
    except Exception:  # a broken model must not cost a call or an analysis its lexical results
        log.info("the KB's sentence vectors could not be built", exc_info=True)  # for a configured log
        return None, "语义模型出错"


class KbVectors:
    """The KB's sentence vectors for calls: built once per KB on a worker, handed to each call.

    ``build(kb)`` returns at once; a worker encodes the KB (through the on-disk embedding
    cache, so an unchanged KB costs a file read) and then attaches the vectors to the engine
    of every call made on that KB, running calls included (``AssistEngine.attach_semantics``
    is safe from another thread). Until then, and for good without an encoder
    (``ASSIST_ENCODER=none``, the optional package missing, a model that fails to load),
    calls are lexical-only. ``on_status(state, text)`` reports, from the worker thread and in
    Chinese, ``"progress"``, ``"ready"`` or ``"problem"`` (why there is no semantic matching).
    Any thread.
    """

    def __init__(self, on_status: Callable[[str, str], None] | None = None):
        self.on_status = on_status
        self._lock = threading.Lock()
        self._kb_version: str | None = None  # the KB the current build or vectors belong to
        self._semantics: KbSemantics | None = None
        self._engines: weakref.WeakSet[AssistEngine] = weakref.WeakSet()  # calls waiting for them
        self._done = threading.Event()
        self.problem: str | None = None  # why calls are lexical-only, once known

    @property
    def semantics(self) -> KbSemantics | None:
        return self._semantics

    def build(self, kb: KnowledgeBase) -> None:
        """Start building ``kb``'s vectors (a KB already built or building: nothing to do)."""
        with self._lock:
            if self._kb_version == kb.version:
                return
            self._kb_version, self._semantics, self.problem = kb.version, None, None
            self._done.clear()
        threading.Thread(target=self._build, args=(kb,), name="assist-kb-vectors", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current build has finished (vectors or a problem); True if it has."""
        return self._done.wait(timeout)

    def attach(self, engine: AssistEngine) -> None:
        """Give ``engine`` the vectors now if they are ready for its KB, else when they are."""
        with self._lock:
            ready = self._semantics if self._kb_version == engine.kb.version else None
            if ready is None:
                self._engines.add(engine)
        if ready is not None:
            engine.attach_semantics(ready)

    def _say(self, state: str, text: str) -> None:
        if self.on_status is not None:
            self.on_status(state, text)

    def _build(self, kb: KnowledgeBase) -> None:
        """Worker thread: encode, then hand the vectors to every waiting call on this KB."""
        def progress(done: int, total: int) -> None:
            if total and done < total:
                self._say("progress", f"正在准备语义理解（{done * 100 // total}%），现在按字面匹配")

        semantics, reason = build_kb_semantics(kb, progress)
        problem = f"{reason}，通话只按字面匹配（换种说法的问题可能找不到答案）"
        with self._lock:
            if self._kb_version != kb.version:
                return  # a newer KB replaced this one meanwhile: its own build reports
            if semantics is None:
                self.problem = problem
            self._semantics = semantics
            engines = [e for e in self._engines if e.kb.version == kb.version]
            self._engines = weakref.WeakSet(e for e in self._engines if e.kb.version != kb.version)
        for engine in engines:
            engine.attach_semantics(semantics)
        self._done.set()
        if semantics is None:
            self._say("problem", self.problem or "")
        else:
            self._say("ready", "语义理解已就绪")


class SpareEngine:
    """The next call's engine, built ahead of time on a worker thread.

    Even with its indexes cached, an engine on a 10 000-FAQ KB costs about 0.2 s of CPU to
    build (the phrase index's cache key over every phrasing, the FAQ phrasings list): on the
    panel's GUI thread at F8 that froze the panel for as long. ``prepare(kb)`` builds one on
    a worker when the panel is idle (a KB loaded, a call ended); ``take(kb, playbook_id)``
    hands it over for the call (None if there is none yet for this KB: the caller builds one
    as before). An engine is handed out once; a new KB replaces a spare built for the old one.
    ``warm_imports``: modules the call's start will need (the listener's audio and recognizer
    code: ~0.5 s of imports at the first F8), imported on the same worker afterwards.
    Any thread.
    """

    def __init__(self, warm_imports: Iterable[str] = ()) -> None:
        self.warm_imports = ("assist.call", *warm_imports)
        self._lock = threading.Lock()
        self._kb: KnowledgeBase | None = None  # the KB of the spare or of the build under way
        self._engine: AssistEngine | None = None
        self._building = False

    def prepare(self, kb: KnowledgeBase, built: AssistEngine | None = None) -> None:
        """Start building a spare engine on ``kb`` (returns at once; nothing to do if one exists).
        ``built``: an unused engine on ``kb`` made anyway (the KB loader's): it becomes the spare."""
        with self._lock:
            if self._kb is kb and (self._engine is not None or self._building):
                return
            self._kb, self._engine, self._building = kb, None, True
        threading.Thread(target=self._build, args=(kb, built), name="assist-spare-engine", daemon=True).start()

    def _build(self, kb: KnowledgeBase, engine: AssistEngine | None = None) -> None:
        """Worker thread. A failure leaves no spare: the call builds its engine and reports it."""
        try:
            settle_heap()  # as make_call would: the engine is built after, so it stays collectable
            if engine is None or engine.kb is not kb:
                engine = make_engine(kb)
        except Exception:
            engine = None
            log.info("could not build a spare engine", exc_info=True)
        import importlib

        for name in self.warm_imports:
            try:
                importlib.import_module(name)
            except Exception:  # e.g. no audio library: the call's start reports it to the agent
                log.info("could not import %s ahead of the call", name, exc_info=True)
        with self._lock:
            if self._kb is kb:
                self._engine, self._building = engine, False

    def ready_for(self, kb: KnowledgeBase) -> bool:
        """Whether a spare engine for ``kb`` is waiting (benchmarks and tests wait for it)."""
        with self._lock:
            return self._kb is kb and self._engine is not None

    def take(self, kb: KnowledgeBase, playbook_id: str | None = None) -> AssistEngine | None:
        """The spare engine for ``kb``, following ``playbook_id`` (None: detected), or None."""
        with self._lock:
            if self._kb is not kb or self._engine is None:
                return None
            engine, self._engine = self._engine, None
        if playbook_id:
            from assist.engine import UnknownPlaybook

            try:
                engine.reset(playbook_id)  # as AssistEngine(kb, playbook_id) would start
            except UnknownPlaybook:  # raised before the engine changed: keep it for the next call
                with self._lock:
                    if self._kb is kb and self._engine is None:
                        self._engine = engine
                return None  # make_engine says so, in the user's words
        return engine


_heap_settled = False


def settle_heap() -> None:
    """Before the first call of the process: collect what loading left behind, freeze what is alive.

    What is alive then (the knowledge base, its indexes, the store) outlives the call; frozen
    (``gc.freeze``), a full collection during a call does not walk it. Unfrozen, such a
    collection held the GIL for 90–140 ms (under load) in the middle of an utterance: the one
    late suggestion of the store's lock benchmark (bench/bench_store.py [b]). Once per process:
    the terminal commands make one call; the panel's KB loader freezes each KB it loads itself
    (ui/kb_watcher.py), and freezing again at every call would make whatever is alive then and
    becomes cyclic garbage later uncollectable. A call's engine is built after this, so it stays
    collectable when the call ends. Caller's thread.
    """
    global _heap_settled
    if _heap_settled:
        return
    _heap_settled = True
    gc.collect()
    gc.freeze()


def make_call(kb: KnowledgeBase, playbook_id: str | None = None, subscribers: Iterable = (),
              recording: Recording | None = None, vectors: KbVectors | None = None,
              spare: SpareEngine | None = None) -> Call:
    """Engine + ``Call``; the recorder (if any) hears every event after the other subscribers.
    ``vectors``: the KB's sentence vectors, now or when built (else the call is lexical-only).
    ``spare``: take the engine built ahead there, if it has one for ``kb``."""
    from assist.call import Call

    settle_heap()
    engine = spare.take(kb, playbook_id) if spare is not None else None
    if engine is None:
        engine = make_engine(kb, playbook_id)
    if vectors is not None:
        vectors.attach(engine)
    subs = tuple(subscribers)
    if recording is not None:
        subs = (recording.recorder, *subs)
    call = Call(engine, subscribers=subs)
    if recording is not None and recording.recorder.on_problem is None:
        # nobody else listens for store trouble (the CLI): it becomes an event of the call itself
        recording.recorder.on_problem = call.publish
    return call


@dataclass
class LiveSettings:
    """Devices and model for a live call: what was asked for, else what the user saved.

    ``model`` None leaves the choice to ``asr.models.find_model`` (ASSIST_MODEL, saved, installed).
    """

    agent: str | None = None
    customer: str | None = None
    model: str | None = None
    mixed: bool = False
    extra: dict = field(default_factory=dict)


def live_source(call: Call | None, asked: LiveSettings | None = None) -> Listener:
    """A ``Listener`` on the asked devices, falling back to the saved settings (``config.yaml``)."""
    from assist.config import load_config
    from assist.listening import Listener

    asked = asked or LiveSettings()
    saved = load_config()  # ConfigError is an AssistError: it names the file and the fix
    agent = asked.agent or saved.agent_device
    customer = None if asked.mixed else (asked.customer or saved.customer_device)
    # the model is left to asr.models.find_model: --model > ASSIST_MODEL > saved > installed
    return Listener(call, agent_device=agent, customer_device=customer, model_path=asked.model,
                    mixed=asked.mixed, **asked.extra)


def replay_source(call: Call, path: str | Path, speed: float | None = 1.0, model: str | None = None,
                  vectors: KbVectors | None = None) -> Replay:
    """A ``Replay`` of a WAV file through the same recognizers as a live call; with ``vectors``
    it waits for the KB's sentence vectors before the audio flows (same results at any speed)."""
    from assist.listening import Replay

    return Replay(call, path, speed=speed, model_path=model,
                  before_feeding=vectors.wait if vectors is not None else None)


def demo_source(call: Call, demo_file: str | Path | None = None, **player_options: Any) -> DemoPlayer:
    """A ``DemoPlayer`` of the sample call (or ``demo_file``); raises AssistError if it cannot be read."""
    from assist.demo import DemoError, DemoPlayer, load_demo

    try:
        lines = load_demo(demo_file)
    except DemoError as e:
        raise AssistError(f"演示通话无法播放：{e}", "检查演示文件，或不指定文件以播放自带的演示通话。") from None
    return DemoPlayer(call, lines, **player_options)


def start_source(source: Listener | Replay) -> None:
    """Start a source (caller's thread); what stops it (model, device, file, settings) is an AssistError."""
    from assist.asr.models import ModelMissing
    from assist.audio.devices import DeviceError
    from assist.audio.wav_source import WavError

    try:
        source.start()
    except ModelMissing as e:
        raise NoModel(f"没有可用的中文语音模型：{e.problem}", f"运行 {e.fix}") from None
    except DeviceError as e:
        raise NoAudio(f"无法开始收音：{e.message}", e.fix or "运行 assist devices 检查耳机和输入设备，然后重试。") from None
    except WavError as e:
        raise BadRecording(f"录音文件无法回放：{e}", "换一个 16 位 PCM 的 WAV 文件（单声道，或左坐席右客户的立体声）。") from None
