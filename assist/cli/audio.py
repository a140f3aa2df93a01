"""Sub-commands for audio and speech: ``devices``, ``model``, ``replay``, ``listen``.

Heavy imports (sounddevice/PortAudio, vosk, the engine, the store) happen
inside the command functions. Every expected failure (no model, no device,
bad WAV, failed download, unusable store) becomes a ``UsageError``: one clear
message, no traceback. All of this runs in the main thread; the pipeline's
own threads are started by ``assist.listening``.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from dataclasses import asdict, is_dataclass
from pathlib import Path

from assist.cli.common import UsageError, add_kb_option, open_kb
from assist.printable import printable


def register(sub) -> None:
    p = sub.add_parser("devices", help="列出音频输入设备；用 --agent / --customer 按名称保存选择")
    p.add_argument("--agent", metavar="设备名", help="把这个输入设为坐席麦克风")
    p.add_argument("--customer", metavar="设备名", help="把这个输入设为客户声道（软电话的回环输出）")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("model", help="管理离线语音识别模型和句向量模型")
    msub = p.add_subparsers(dest="model_command", metavar="操作", required=True)
    d = msub.add_parser("download", help="下载并安装 vosk 语音模型（默认 vosk-model-small-cn-0.22）")
    d.add_argument("name", nargs="?", default=None, metavar="模型名", help="要下载的模型（见 assist model list）")
    d.add_argument("--dest", metavar="目录", help="安装目录（默认：ASSIST_MODELS_DIR 或用户数据目录）")
    d.add_argument("--sha256", metavar="校验值", help="压缩包应有的 SHA-256（不一致则中止）")
    d.add_argument("--url-base", metavar="网址", help="改从这个镜像下载（或设置 ASSIST_MODEL_URL_BASE）")
    d.set_defaults(func=cmd_model_download)
    d = msub.add_parser("list", help="列出已知和已安装的模型")
    d.set_defaults(func=cmd_model_list)
    d = msub.add_parser("path", help="显示将要使用的模型目录")
    d.add_argument("name", nargs="?", default=None, metavar="模型名", help="模型名（默认：将要使用的模型）")
    d.set_defaults(func=cmd_model_path)

    p = sub.add_parser("replay", help="用助手处理一段通话录音（WAV：立体声左为坐席、右为客户）")
    p.add_argument("file", metavar="录音.wav", help="通话录音（WAV 文件）")
    p.add_argument("--speed", default="1", metavar="倍速", help="1 = 实时（默认），max = 尽快，或倍数如 2")
    _add_call_options(p)
    p.add_argument("--json", action="store_true", help="以 JSON Lines 输出事件，而不是实时画面")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("listen", help="实时收听通话，在终端里显示助手提示")
    p.add_argument("--agent", metavar="设备名", help="坐席麦克风（设备名；默认：已保存的选择或系统默认）")
    p.add_argument("--customer", metavar="设备名", help="传来客户声音的输入（软电话回环）")
    p.add_argument("--mixed", action="store_true", help="一个输入同时有双方声音（免提）：说话人记为“通话”")
    _add_call_options(p)
    p.set_defaults(func=cmd_listen)


def _add_call_options(p) -> None:
    p.add_argument("--playbook", metavar="话术编号", help="要跟随的话术（默认：按通话内容判断）")
    p.add_argument("--db", metavar="文件", help="通话记录库文件（默认：用户的 sessions.db）")
    p.add_argument("--no-store", action="store_true", help="不保存这通电话的记录")
    p.add_argument("--model", metavar="目录", help="vosk 模型目录（默认：ASSIST_MODEL、配置或已安装的模型）")
    add_kb_option(p)


# -- devices -------------------------------------------------------------------------

def cmd_devices(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from assist.audio.devices import DeviceError, find_input, list_inputs
    from assist.config import ConfigError, load_config, save_config

    try:
        config = load_config()
        inputs = list_inputs()
    except (DeviceError, ConfigError) as e:
        raise UsageError(str(e)) from None
    if args.agent or args.customer:
        changes = {}
        try:
            if args.agent:
                changes["agent_device"] = find_input(args.agent).name
            if args.customer:
                changes["customer_device"] = find_input(args.customer).name
        except DeviceError as e:
            raise UsageError(str(e)) from None
        config = config.with_changes(**changes)
        path = save_config(config)
        saved = {"agent_device": "坐席麦克风", "customer_device": "客户声道"}
        print(f"已保存到 {path}：" + "，".join(f"{saved[k]} = {v!r}" for k, v in changes.items()))
        return 0
    if not inputs:
        raise UsageError("找不到音频输入设备", "请插上耳机或麦克风，然后再运行 assist devices")
    table = Table(title="音频输入设备")
    for col in ("序号", "名称", "音频接口", "声道数", "默认采样率", "用途"):
        table.add_column(col)
    for d in inputs:
        role = []
        if d.name == config.agent_device:
            role.append("坐席麦克风（已保存）")
        if d.name == config.customer_device:
            role.append("客户声道（已保存）")
        if d.is_default:
            role.append("系统默认")
        # device and host API names are the system's own: shown as they are, without escape codes
        table.add_row(str(d.index), printable(d.name, newlines=False), printable(d.hostapi, newlines=False),
                      str(d.channels), f"{d.default_rate} Hz", "、".join(role))
    Console(highlight=False).print(table)
    return 0


# -- model -------------------------------------------------------------------------

def cmd_model_download(args) -> int:
    from tqdm import tqdm

    from assist.asr.models import DEFAULT_MODEL, KNOWN_MODELS, DownloadError, download_model

    name = args.name or DEFAULT_MODEL
    if name not in KNOWN_MODELS and not (args.url_base or args.sha256):
        print(f"提示：{name} 不在已知模型之列（{'、'.join(KNOWN_MODELS)}），仍然尝试下载", file=sys.stderr)
    bar = None

    def progress(done: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, initial=done, unit="B", unit_scale=True, unit_divisor=1024, desc=name)
        else:
            bar.update(done - bar.n)

    def warn(message: str) -> None:
        (bar.write if bar else print)(f"注意：{message}", file=sys.stderr)

    try:
        path = download_model(name, dest_dir=args.dest, url_base=args.url_base, sha256=args.sha256,
                              progress=progress, warn=warn)
    except DownloadError as e:
        raise UsageError(e.message, e.fix) from None
    finally:
        if bar is not None:
            bar.close()
    print(f"已安装 {name}：{path}")
    return 0


def cmd_model_list(args) -> int:
    from assist.asr.models import DEFAULT_MODEL, KNOWN_MODELS, list_models

    installed = list_models()
    print("可下载的模型（用 assist model download 名称 下载）：")
    for m in KNOWN_MODELS.values():
        mark = "（默认）" if m.name == DEFAULT_MODEL else ""
        print(f"  {m.name:<28} {m.size_mb:>5} MB  {m.description}{mark}")
    print("已安装：")
    if not installed:
        print("  无")
    for found in installed:
        state = "完整" if found.complete else "不完整，缺少 " + "、".join(found.missing)
        print(f"  {found.name:<28} {found.path}  [{state}]")
    return 0


def cmd_model_path(args) -> int:
    from assist.asr.models import DEFAULT_MODEL, ModelMissing, find_model

    try:
        print(find_model(name=args.name or DEFAULT_MODEL))
    except ModelMissing as e:
        raise UsageError(str(e)) from None
    return 0


# -- replay and listen ---------------------------------------------------------------

def _event_json(event) -> str:
    data = asdict(event) if is_dataclass(event) and not isinstance(event, type) else {"value": repr(event)}
    return json.dumps({"event": type(event).__name__, **data}, ensure_ascii=False, default=str)


def _make_call(args, subscribers):
    """The call as ``assist.assembly`` makes it (as the panel does): (call, Recording or None, KbVectors).

    The KB's sentence vectors are built on a worker: a live call starts lexical and understands
    paraphrases once they are there; a replay waits for them before its audio flows, so it gives
    the same results at any speed, like ``assist analyze``.
    """
    from assist.assembly import KbVectors, make_call, open_recording

    kb = open_kb(args)

    def say(state: str, text: str) -> None:
        if state == "problem" and text:
            print(f"提示：{text}", file=sys.stderr)

    vectors = KbVectors(on_status=say)
    vectors.build(kb)
    recording = None
    if not args.no_store:
        recording = open_recording(args.db)  # AssistError: printed with its fix by cli.main
        if recording.warning:
            print(f"assist：注意：{recording.warning}", file=sys.stderr)
    try:
        call = make_call(kb, args.playbook, subscribers, recording, vectors=vectors)
    except BaseException:
        if recording is not None:
            recording.close()
        raise
    return call, recording, vectors


# exit code when part of the call could not be written to the store (kept in its journal instead)
EXIT_NOT_ALL_SAVED = 3


def _close_recorder(recording) -> int:
    """Close the recorder and store; 0, or EXIT_NOT_ALL_SAVED with a message when something is not in the store."""
    if recording is None:
        return 0
    recorder = recording.recorder
    unsaved = recording.close()
    if unsaved:
        aside = f"其中 {recorder.set_aside} 条被数据库拒绝，已单独保留；" if recorder.set_aside else ""
        print(f"assist：注意：本次通话有 {unsaved} 条记录没有写入通话记录库，{aside}"
              f"它们保存在暂存文件 {recorder.spool_path}，请交给技术支持。", file=sys.stderr)
        return EXIT_NOT_ALL_SAVED
    return 0


def _parse_speed(text: str) -> float | None:
    if text.lower() in ("max", "0"):
        return None
    try:
        speed = float(text)
    except ValueError:
        raise UsageError(f"--speed {text!r} 无法识别：请写 1（实时）、'max'（尽快）或一个正的倍数，如 2") from None
    if speed <= 0:
        raise UsageError(f"--speed {text!r} 必须大于 0：请写 1（实时）、'max'（尽快）或一个正的倍数，如 2")
    return speed


def _start(pipeline) -> None:
    """Start a Listener or Replay; what stops it (model, device, file, settings) is an AssistError."""
    from assist.assembly import start_source

    start_source(pipeline)


def _interrupt_in_main_thread() -> None:
    """Ctrl-C must reach the main thread as KeyboardInterrupt even while it waits on a join."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def cmd_replay(args) -> int:
    from assist.assembly import replay_source
    from assist.terminal_view import TerminalView

    speed = _parse_speed(args.speed)
    view = None
    subscribers = []
    if args.json:
        lock = threading.Lock()

        def emit(event) -> None:
            if type(event).__name__ == "AudioLevel":
                return
            with lock:
                print(_event_json(event), flush=True)

        subscribers.append(emit)
    else:
        view = TerminalView()
        subscribers.append(view)
    call, recorder, vectors = _make_call(args, subscribers)
    replay = replay_source(call, args.file, speed=speed, model=args.model, vectors=vectors)
    _interrupt_in_main_thread()
    try:
        _start(replay)
        interrupted = False
        try:
            if view is not None:
                with view.live():
                    while not replay.wait(timeout=0.2):
                        pass
            else:
                while not replay.wait(timeout=0.2):
                    pass
        except KeyboardInterrupt:
            interrupted = True
        replay.stop(interrupted=interrupted)
    finally:
        not_saved = _close_recorder(recorder)
    if not args.json:
        print(_stats_line(replay.stats), file=sys.stderr)
    return 130 if interrupted else not_saved


def cmd_listen(args) -> int:
    from assist.assembly import LiveSettings, live_source
    from assist.config import load_config
    from assist.terminal_view import TerminalView

    load_config()  # a broken settings file stops here, before the store is opened
    view = TerminalView()
    call, recorder, _vectors = _make_call(args, [view])
    try:
        listener = live_source(call, LiveSettings(agent=args.agent, customer=args.customer, model=args.model,
                                                  mixed=args.mixed))
    except BaseException:
        _close_recorder(recorder)
        raise
    _interrupt_in_main_thread()
    try:
        _start(listener)
        try:
            with _driver_noise_to_log(), view.live():
                threading.Event().wait()  # until Ctrl-C
        except KeyboardInterrupt:
            pass
        listener.stop()  # Ctrl-C is how a live call normally ends: not "interrupted"
    finally:
        not_saved = _close_recorder(recorder)
    print(_stats_line(listener.stats), file=sys.stderr)
    return not_saved


@contextlib.contextmanager
def _driver_noise_to_log():
    """While the live view is on, send fd 2 to a log file.

    ALSA and PortAudio print straight to file descriptor 2 (e.g. on every
    attempt to reopen a lost device), which would tear the live view apart.
    Only done when stdout is a terminal; the log's path is printed afterwards.
    """
    if not sys.stdout.isatty():
        yield
        return
    import platformdirs

    log_dir = Path(platformdirs.user_log_dir("assist"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "listen-driver.log"
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            wrote = log.tell()
    if wrote:
        print(f"音频驱动的提示信息已写入 {log_path}", file=sys.stderr)


def _stats_line(stats: dict) -> str:
    """One line per call for stderr: per channel, audio heard, sentences, recognition speed, losses."""
    from assist.events import SPEAKER_LABELS

    parts = []
    for ch, s in stats.items():
        extra = ""
        if "dropped" in s:
            extra = f"，丢弃 {s['dropped']} 段，溢出 {s['overflows']} 次，设备断开 {s['lost']} 次"
        parts.append(f"{SPEAKER_LABELS.get(ch, ch)}声道：音频 {s['audio_seconds']} 秒，{s['finals']} 句，"
                     f"识别耗时为音频时长的 {s['real_time_factor']} 倍{extra}")
    return "；".join(parts)
