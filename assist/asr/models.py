"""Offline models: where they are, whether they are complete, and how to download one.

Two kinds live side by side in the same folders and commands: speech models (vosk) and
sentence-encoder models for the semantic matcher (an ONNX folder: ``model.onnx`` +
``tokenizer.json``, see ``assist.semantics.onnx_encoder``). A folder's files say which
kind it is. An encoder model is downloaded file by file (the model hubs publish files,
not archives) into a temporary folder that is renamed into place when complete.

Where a model is looked for, first match wins:
1. an explicit path (``--model`` / ``Listener(model_path=...)``),
2. the ``ASSIST_MODEL`` environment variable (any vosk model folder),
3. ``model_path`` in the user's config (``assist.config``),
4. ``<name>`` under the install folder (``assist.config.models_dir``: ``ASSIST_MODELS_DIR``
   or ``<user data dir>/models``), where ``assist model download`` puts it.

``download_model`` fetches ``<base>/<name>.zip`` from the vosk project's
official address (``ASSIST_MODEL_URL_BASE`` overrides the base, for mirrors
and tests), shows progress, resumes a broken transfer with an HTTP Range
request, checks the SHA-256, unpacks into a temporary folder beside the target
and renames it into place, so a failure never leaves half a model behind.
Whether a folder is usable is decided by the files in it (``check_model``).
Runs in the caller's thread (the CLI's main thread).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assist import config
from assist.errors import AssistError

OFFICIAL_URL_BASE = "https://alphacephei.com/vosk/models"
DEFAULT_MODEL = "vosk-model-small-cn-0.22"
DEFAULT_ENCODER_MODEL = "bge-small-zh-v1.5-onnx"
ENCODER_URL_BASE = "https://huggingface.co/Xenova/bge-small-zh-v1.5/resolve/main"


@dataclass(frozen=True)
class KnownModel:
    name: str
    description: str
    size_mb: int
    sha256: str | None
    # The recorded hash of the small model comes from another public project
    # and cannot be checked from here: a mismatch is reported loudly, and the
    # unpacked files decide whether the model is usable.
    sha256_confirmed: bool = False
    kind: str = "speech"  # speech (vosk zip) | encoder (ONNX folder, fetched file by file)
    files: tuple[tuple[str, str], ...] = ()  # encoder: (file in the folder, path under the URL base)


KNOWN_MODELS: dict[str, KnownModel] = {
    "vosk-model-small-cn-0.22": KnownModel(
        "vosk-model-small-cn-0.22", "普通话小模型，笔记本电脑够用", 42,
        "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba"),
    "vosk-model-cn-0.22": KnownModel(
        "vosk-model-cn-0.22", "普通话大模型，更准确，需要约 4 GB 内存", 1300, None),
    DEFAULT_ENCODER_MODEL: KnownModel(
        DEFAULT_ENCODER_MODEL, "句向量模型，用于按意思匹配（ONNX 格式；用于 Windows，或换更强的中文模型）",
        95, None, kind="encoder",
        files=(("model.onnx", "onnx/model.onnx"), ("tokenizer.json", "tokenizer.json"))),
}


class ModelMissing(AssistError):
    """No usable model: ``str(e)`` is one line saying what is wrong plus the command that fixes it."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem, fix)
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.problem}；处理办法：{self.fix}"


class DownloadError(AssistError):
    """The download failed; the message says why and that running the command again resumes it."""


class ChecksumMismatch(DownloadError):
    def __init__(self, url: str, expected: str, got: str):
        super().__init__(f"{url} 的 SHA-256 校验值不符：应为 {expected}，实际为 {got}",
                         "请确认校验值和下载地址是否正确，再运行一次同样的命令")
        self.expected = expected
        self.got = got


def install_dir() -> Path:
    return config.models_dir()


def search_dirs() -> list[Path]:
    return [install_dir()]


def fix_command(name: str = DEFAULT_MODEL) -> str:
    return "assist model download" if name == DEFAULT_MODEL else f"assist model download {name}"


def is_encoder_folder(path: str | Path) -> bool:
    return (Path(path) / "model.onnx").exists() or (Path(path) / "tokenizer.json").exists()


def check_model(path: str | Path) -> list[str]:
    """What a model folder lacks (empty list: it looks complete): a vosk model, or an
    encoder model if it holds an ONNX graph or a tokenizer."""
    path = Path(path)
    if not path.is_dir():
        return [f"{path}（不是文件夹）"]
    if is_encoder_folder(path):
        return [f for f in ("model.onnx", "tokenizer.json") if not (path / f).is_file()]
    missing = [rel for rel in ("am/final.mdl", "conf/model.conf") if not (path / rel).is_file()]
    graph = path / "graph"
    has_static = (graph / "HCLG.fst").is_file()
    has_lookahead = (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
    if not (has_static or has_lookahead):
        missing.append("graph/HCLG.fst（或 graph/HCLr.fst + graph/Gr.fst）")
    if not (graph / "phones" / "word_boundary.int").is_file() and not (graph / "words.txt").is_file():
        missing.append("graph/phones/word_boundary.int")
    return missing


def _require_complete(path: Path, name_for_fix: str) -> Path:
    missing = check_model(path)
    if missing:
        raise ModelMissing(f"模型文件夹 {path} 不完整（缺少 {'、'.join(missing)}）",
                           f"{fix_command(name_for_fix)}（或把 ASSIST_MODEL 指向一个完整的 vosk 模型文件夹）")
    return path


def find_model(explicit: str | Path | None = None, name: str = DEFAULT_MODEL) -> Path:
    """The model folder to use, checked for completeness; raises ``ModelMissing``."""
    if explicit:
        return _require_complete(Path(explicit).expanduser(), name)
    known = KNOWN_MODELS.get(name)
    speech = not (known and known.kind == "encoder")  # ASSIST_MODEL and the config name a speech model
    override = config.model_override() if speech else None
    if override:
        return _require_complete(Path(override).expanduser(), name)
    try:
        configured = config.load_config().model_path if speech else None
    except config.ConfigError:
        configured = None
    if configured:
        return _require_complete(Path(configured).expanduser(), name)
    for d in search_dirs():
        if (d / name).exists():
            return _require_complete(d / name, name)
    raise ModelMissing(f"没有安装语音模型 {name}（查找过：{'、'.join(str(d) for d in search_dirs())}）",
                       fix_command(name))


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    complete: bool
    missing: tuple[str, ...]


def list_models() -> list[InstalledModel]:
    """Every model-looking folder in the search folders, plus ASSIST_MODEL if set."""
    seen: dict[Path, InstalledModel] = {}
    candidates: list[Path] = []
    for d in search_dirs():
        if d.is_dir():
            candidates += sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
    override = config.model_override()
    if override:
        candidates.append(Path(override))
    for p in candidates:
        missing = tuple(check_model(p))
        seen.setdefault(p.resolve(), InstalledModel(p.name, p, not missing, missing))
    return list(seen.values())


def url_for(name: str, url_base: str | None = None) -> str:
    base = url_base or config.model_url_base() or OFFICIAL_URL_BASE
    return f"{base.rstrip('/')}/{name}.zip"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


ProgressFn = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


def _fetch(url: str, part: Path, progress: ProgressFn | None, timeout: float) -> None:
    """Download ``url`` into ``part``, continuing from its current size if the server allows."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "assist-model-download"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # we already hold every byte
            if progress:
                progress(have, have)
            return
        raise DownloadError(f"无法下载 {url}（服务器回答 HTTP {e.code}）",
                            "请检查网络和下载地址（--url-base），稍后再运行一次同样的命令") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"无法下载 {url}（{reason}）", "请检查网络和下载地址（--url-base），稍后再运行一次同样的命令") from None
    with resp:
        if have and resp.status != 206:
            have = 0  # the server ignored the Range header: start over
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        done = have
        if progress:
            progress(done, total)
        try:
            with open(part, "ab" if have else "wb") as f:
                while True:
                    chunk = resp.read(1 << 16)
                    if not chunk:
                        break
                    f.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except (OSError, urllib.error.URLError) as e:
            raise DownloadError(f"下载 {url} 在 {done} 字节处中断（{e}）", "再运行一次同样的命令即可接着下载") from None
        if total is not None and done < total:
            raise DownloadError(f"下载 {url} 在 {done} / {total} 字节处中断", "再运行一次同样的命令即可接着下载")


def _unpack(zip_path: Path, dest: Path, name: str) -> Path:
    """Unzip into a temp folder beside ``dest``, check it, then rename it into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".unpack-{name}-", dir=dest.parent))
    try:
        try:
            with zipfile.ZipFile(zip_path) as z:
                z.extractall(tmp)  # extractall drops absolute paths and '..' parts
        except (zipfile.BadZipFile, EOFError) as e:
            raise DownloadError(f"{zip_path} 不是有效的 zip 压缩包（{e}）", "请删掉它，再重新下载") from None
        entries = [p for p in tmp.iterdir()]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
        missing = check_model(root)
        if missing:
            raise DownloadError(f"下载的压缩包里没有完整的 vosk 模型（缺少 {'、'.join(missing)}）",
                                "请确认下载的是 vosk 模型，或换一个下载地址（--url-base）")
        if dest.exists():
            old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
            os.replace(dest, old)
            shutil.rmtree(old, ignore_errors=True)
        if root is tmp:
            os.replace(tmp, dest)
        else:
            os.replace(root, dest)
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def download_model(name: str = DEFAULT_MODEL, *, dest_dir: str | Path | None = None,
                   url_base: str | None = None, sha256: str | None = None,
                   progress: ProgressFn | None = None, warn: Callable[[str], None] | None = None,
                   timeout: float = 30.0) -> Path:
    """Download, verify and install model ``name``; returns its folder.

    ``sha256`` (a hash the user confirmed) makes a mismatch fatal; without it the
    recorded hash of a known model is checked and a mismatch only warns (through
    ``warn``) because the recorded hash is unconfirmed: the model's files decide.
    """
    dest_dir = Path(dest_dir) if dest_dir else install_dir()
    dest = dest_dir / name
    known = KNOWN_MODELS.get(name)
    if known and known.kind == "encoder":
        return _download_files(known, dest, url_base or config.encoder_url_base() or ENCODER_URL_BASE,
                               progress, timeout)
    url = url_for(name, url_base)
    downloads = dest_dir / ".downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    part = downloads / f"{name}.zip.part"
    _fetch(url, part, progress, timeout)
    got = _sha256(part)
    known = KNOWN_MODELS.get(name)
    expected = sha256 or (known.sha256 if known else None)
    if expected and got != expected.lower():
        if sha256 or (known and known.sha256_confirmed):
            part.unlink(missing_ok=True)  # a wrong file must not be resumed next time
            raise ChecksumMismatch(url, expected.lower(), got)
        if warn:
            warn(f"{url} 的 SHA-256 校验值不符：记录的是 {expected}（来自别处，未经确认），"
                 f"实际为 {got}；改为检查模型文件是否完整")
    path = _unpack(part, dest, name)
    part.unlink(missing_ok=True)
    return path


def _download_files(known: KnownModel, dest: Path, url_base: str, progress: ProgressFn | None,
                    timeout: float) -> Path:
    """An encoder model, file by file, each resumable, into a folder renamed into place when whole."""
    staging = dest.with_name(f".download-{dest.name}")
    staging.mkdir(parents=True, exist_ok=True)
    for rel, remote in known.files:
        target = staging / rel
        if target.is_file():
            continue  # finished in an earlier run
        part = target.with_name(target.name + ".part")
        _fetch(f"{url_base.rstrip('/')}/{remote}", part, progress, timeout)
        os.replace(part, target)
    missing = check_model(staging)
    if missing:
        raise DownloadError(f"下载的句向量模型不完整（缺少 {'、'.join(missing)}）", "再运行一次同样的命令")
    if dest.exists():
        old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
        os.replace(dest, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(staging, dest)
    return dest


def model_sample_rate(path: str | Path) -> int:
    """The rate the model was trained on (``--sample-frequency`` in conf/mfcc.conf; vosk's default 16 kHz)."""
    conf = Path(path) / "conf" / "mfcc.conf"
    try:
        for line in conf.read_text().splitlines():
            if line.strip().startswith("--sample-frequency="):
                return int(float(line.split("=", 1)[1]))
    except (OSError, ValueError):
        pass
    return 16000
