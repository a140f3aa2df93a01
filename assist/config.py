"""The user's saved settings: which input devices to use and which speech model.

Kept in ``config.yaml`` under ``ASSIST_CONFIG_DIR`` or, when that is unset,
``platformdirs.user_config_dir("assist")``. Devices are saved by *name*, never
by index, because PortAudio renumbers devices whenever one is plugged in.
A missing file means defaults; a broken file is reported with its path.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import yaml


class ConfigError(Exception):
    """The config file exists but cannot be read; the message names the file."""


@dataclass(frozen=True)
class UserConfig:
    agent_device: str | None = None
    customer_device: str | None = None
    model_path: str | None = None

    def with_changes(self, **changes) -> "UserConfig":
        return replace(self, **changes)


def config_dir() -> Path:
    env = os.environ.get("ASSIST_CONFIG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("assist"))


def config_path() -> Path:
    return config_dir() / "config.yaml"


def load_config() -> UserConfig:
    """Read the user's config (any thread; it is a small file read)."""
    path = config_path()
    if not path.exists():
        return UserConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings, not {type(data).__name__}")
    known = {f.name for f in fields(UserConfig)}
    values = {k: (str(v) if v is not None else None) for k, v in data.items() if k in known}
    return UserConfig(**values)


def save_config(config: UserConfig) -> Path:
    """Write the config atomically (temp file + rename) so a crash never leaves half a file."""
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
