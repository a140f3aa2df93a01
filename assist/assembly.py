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
  device, file, settings) into an ``AssistError`` with its fix.

Qt-free. Runs in the caller's thread; ``start_source`` of a live source loads a
model (seconds), so the panel calls it from a worker thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from assist.call import Call
from assist.errors import AssistError
from assist.knowledge.model import KnowledgeBase

if TYPE_CHECKING:  # imported where used: assist analyze must not load audio, a panel start not vosk
    from assist.demo import DemoPlayer
    from assist.engine import AssistEngine
    from assist.listening import Listener, Replay


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
        titles = "、".join(f"{pb.title}（{pid}）" for pid, pb in sorted(kb.playbooks.items()))
        raise AssistError(f"知识库里没有话术“{playbook_id}”", f"可选的话术：{titles}；不指定则按通话内容自动识别。") from None


def open_recording(db: str | Path | None = None, on_problem: Callable[[object], None] | None = None) -> Recording:
    """Open the session store (``db`` or the default in the data dir) and a recorder on it."""
    from assist.store import SessionRecorder, StoreError, open_store

    try:
        store = open_store(db)
    except StoreError as e:
        raise AssistError(f"无法打开通话记录库：{e}",
                          "检查数据目录（ASSIST_DATA_DIR）是否可写，或不保存本次通话（命令行：--no-store）。") from None
    recorder = SessionRecorder(store, on_problem=on_problem)
    return Recording(store, recorder, store.open_warning or "")


def make_call(kb: KnowledgeBase, playbook_id: str | None = None, subscribers: Iterable = (),
              recording: Recording | None = None) -> Call:
    """Engine + ``Call``; the recorder (if any) hears every event after the other subscribers."""
    engine = make_engine(kb, playbook_id)
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


def replay_source(call: Call, path: str | Path, speed: float | None = 1.0, model: str | None = None) -> Replay:
    """A ``Replay`` of a WAV file through the same recognizers as a live call."""
    from assist.listening import Replay

    return Replay(call, path, speed=speed, model_path=model)


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
