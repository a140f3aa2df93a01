"""The store's key: created on first run, kept owner-only where there is no secure keyring (and the
user is told), never replaced when a keyring fails, and the panel still opens when the store cannot."""
from __future__ import annotations

import pytest

from assist.store import StoreError, open_store
from assist.store import keys as keys_mod


def test_headless_machine_keeps_the_key_in_an_owner_only_file_and_says_so(db_path, tmp_path, monkeypatch):
    monkeypatch.delenv("ASSIST_KEY_STORE")  # use what keyring itself finds: here, no Secret Service
    monkeypatch.setenv("ASSIST_KEY_DIR", str(tmp_path / "k"))
    import keyring
    import keyring.core

    if keyring.core.recommended(keyring.get_keyring()):
        pytest.skip("this machine has a secure keyring")  # noqa: the headless case is what CI has
    with open_store(db_path) as store:
        assert "没有安全的系统密钥环" in store.key_warning and "整盘加密" in store.key_warning
    key_file = tmp_path / "k" / keys_mod.KEY_FILE
    assert (key_file.stat().st_mode & 0o777) == 0o600
    chain = keys_mod.load_keys()
    assert chain.backend == "file" and len(chain.current) == 64


class _LockedKeyring:
    def get_password(self, *_):
        raise RuntimeError("the keyring is locked")

    def set_password(self, *_):
        raise RuntimeError("the keyring is locked")


def test_a_keyring_that_fails_leaves_everything_untouched(db_path, ev, monkeypatch):
    from assist.store import SessionRecorder

    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        rec(ev.started("kr01"))
        assert rec.close() == 0
    before = db_path.read_bytes()
    monkeypatch.setattr(keys_mod, "_secure_keyring", lambda: _LockedKeyring())
    with pytest.raises(StoreError, match="解锁"):
        open_store(db_path)
    assert db_path.read_bytes() == before
    assert not list(db_path.parent.glob("*.corrupt-*"))


def test_a_bad_key_in_the_environment_is_a_clear_error(db_path, monkeypatch):
    monkeypatch.setenv("ASSIST_STORE_KEY", "not-a-key")
    with pytest.raises(StoreError, match="64 位十六进制"):
        open_store(db_path)
