"""The store's encryption keys: where they live, created on first use, escrow and import.

A key is 32 random bytes, written as 64 hex digits and given to SQLCipher as a
raw key (``PRAGMA key = "x'…'"``: no passphrase KDF, so opening costs 0.1 ms, not
100 ms per connection). The user's keys are kept as a small JSON document
``{"keys": [newest, ..., oldest]}``: the newest encrypts; older ones still open
stores not yet moved to it (the demo store, a store set aside), which are then
re-encrypted with the newest (see opening.py).

Where the document lives, in this order (the decision for headless machines is
deliberate and documented in the README):

1. ``ASSIST_STORE_KEY`` (64 hex digits): one key from the environment, for a
   deployment that manages keys itself; never written anywhere by assist.
2. The operating system's keyring (``keyring``: Windows Credential Locker,
   macOS Keychain, Secret Service / KWallet on a Linux desktop), when
   ``keyring.core.recommended`` says the backend is a secure one.
3. Otherwise (headless Linux, a desktop without a keyring daemon, or
   ``ASSIST_KEY_STORE=file``): a file ``store-keys.json`` in the user's config
   folder (``ASSIST_KEY_DIR`` overrides), owner-only (0600). The store is then
   protected from other accounts and from anyone who copies the database alone,
   but not from someone who has the whole disk: ``key_warning`` says so in
   Chinese, and the fix (a keyring, or full-disk encryption).

A keyring that exists but fails (locked, D-Bus error) raises KeyUnavailable: the
store is then not opened (nothing recorded is touched) and no new key is made.
Any thread (a keyring call may take a moment: call it at open, not mid-call).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assist.store.errors import StoreError

SERVICE = "assist"
ACCOUNT = "session-store-keys"
KEY_FILE = "store-keys.json"
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class KeyUnavailable(StoreError):
    """The key store exists but cannot be read now; the message says what to do."""


@dataclass
class KeyChain:
    """The user's store keys (newest first) and where they are kept."""

    keys: list[str]
    backend: str  # 'env' | 'keyring' | 'file'
    location: str  # shown to the user: the keyring's name or the key file's path
    warning: str | None = None  # Chinese, when the place is not a secure one

    @property
    def current(self) -> str | None:
        return self.keys[0] if self.keys else None


def new_key() -> str:
    return secrets.token_hex(32)


def valid_key(text: str) -> bool:
    return bool(_HEX64.match(text or ""))


def key_dir() -> Path:
    from assist.config import config_dir, env

    override = env("ASSIST_KEY_DIR")
    return Path(override).expanduser() if override else config_dir()


def _secure_keyring():
    """The OS keyring if it is a secure backend, else None (headless: no Secret Service)."""
    from assist.config import env

    if (env("ASSIST_KEY_STORE") or "").lower() == "file":
        return None
    try:
        import keyring
        import keyring.core
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        return backend if keyring.core.recommended(backend) else None
    except Exception:  # a broken keyring configuration counts as none
        return None


def _parse(doc: str, where: str) -> list[str]:
    try:
        data = json.loads(doc)
        keys = [k for k in data["keys"] if isinstance(k, str)]
    except (ValueError, KeyError, TypeError):
        raise KeyUnavailable(f"密钥记录（{where}）已损坏，无法读取。请用 assist sessions key import "
                             f"导入团队主管保存的密钥备份。") from None
    bad = [k for k in keys if not valid_key(k)]
    if bad or not keys:
        raise KeyUnavailable(f"密钥记录（{where}）中没有有效的密钥。请用 assist sessions key import 导入密钥备份。")
    return [k.lower() for k in keys]


def _file_warning(path: Path) -> str:
    return (f"本机没有安全的系统密钥环，记录库的密钥保存在文件 {path}（仅本账户可读）。"
            f"若电脑丢失且硬盘未整盘加密，拿到整块硬盘的人可以读出记录。"
            f"建议启用系统密钥环或整盘加密，并用 assist sessions key export 把密钥交给团队主管保管。")


def load_keys(*, create: bool = False) -> KeyChain:
    """The user's keys; with ``create`` a first key is made and saved if there is none.

    Raises KeyUnavailable when the key store cannot be read (nothing is created then).
    """
    from assist.config import env

    given = env("ASSIST_STORE_KEY")
    if given is not None:
        if not valid_key(given.strip()):
            raise KeyUnavailable("环境变量 ASSIST_STORE_KEY 必须是 64 位十六进制数字（32 字节密钥）。")
        return KeyChain([given.strip().lower()], "env", "环境变量 ASSIST_STORE_KEY")
    ring = _secure_keyring()
    if ring is not None:
        where = f"系统密钥环（{type(ring).__name__}）"
        try:
            doc = ring.get_password(SERVICE, ACCOUNT)
        except Exception as e:
            raise KeyUnavailable(f"无法读取{where}中的记录库密钥：{e}。未改动任何已保存的记录。",
                                 "请登录桌面会话或用密钥环管理程序解锁系统密钥环，然后重试。") from None
        chain = KeyChain(_parse(doc, where) if doc else [], "keyring", where)
    else:
        path = key_dir() / KEY_FILE
        try:
            doc = path.read_text(encoding="utf-8") if path.exists() else None
        except OSError as e:
            raise KeyUnavailable(f"无法读取密钥文件 {path}：{e.strerror or e}。请检查该文件的权限。") from None
        chain = KeyChain(_parse(doc, str(path)) if doc else [], "file", str(path), _file_warning(path))
    if not chain.keys and create:
        chain.keys = [new_key()]
        save_keys(chain)
    return chain


def save_keys(chain: KeyChain) -> None:
    """Write the chain back where it came from (keyring entry or 0600 file, atomically)."""
    doc = json.dumps({"keys": chain.keys})
    if chain.backend == "env":
        raise StoreError("密钥来自环境变量 ASSIST_STORE_KEY，assist 不能替换它：请在部署配置中更换。")
    if chain.backend == "keyring":
        ring = _secure_keyring()
        try:
            ring.set_password(SERVICE, ACCOUNT, doc)
        except Exception as e:
            raise KeyUnavailable(f"无法把密钥写入系统密钥环：{e}。请解锁密钥环后重试。") from None
        return
    write_private(Path(chain.location), doc)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, owner-only (0600) whether or not it existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(fd, 0o600) if hasattr(os, "fchmod") else None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def escrow_document(chain: KeyChain) -> str:
    """What ``assist sessions key export`` writes for the team lead: every key, newest first."""
    return json.dumps({"format": "assist-store-keys", "version": 1, "keys": chain.keys}, indent=2) + "\n"


def read_escrow(text: str, where: str) -> list[str]:
    """Keys from an escrow file written by ``escrow_document`` (or a bare 64-hex key)."""
    bare = text.strip()
    if valid_key(bare):
        return [bare.lower()]
    return _parse(text, where)


def sql_key(key: str) -> str:
    """The PRAGMA key argument for a raw 32-byte key (validated: it is spliced into SQL)."""
    if not valid_key(key):
        raise ValueError("not a 64-hex-digit key")
    return f"\"x'{key.lower()}'\""
