"""The whole suite runs in a throw-away profile: nothing of the real user's is read or written.

Set before any test module is imported (some load the KB at import time), so the
user's own settings, sessions, caches or KB folder never leak into a test, and
subprocesses started by tests inherit the same profile.
"""
import os
import shutil
import tempfile

_PROFILE = tempfile.mkdtemp(prefix="assist-tests-")
# ASSIST_KEY_DIR: the session store's encryption keys, file-kept (no keyring) inside the profile
for _name, _sub in (("ASSIST_DATA_DIR", "data"), ("ASSIST_CONFIG_DIR", "config"), ("ASSIST_CACHE_DIR", "cache"),
                    ("ASSIST_KEY_DIR", "keys")):
    os.environ[_name] = os.path.join(_PROFILE, _sub)
os.environ["ASSIST_KEY_STORE"] = "file"
for _name in ("ASSIST_STORE_KEY", "ASSIST_KB", "ASSIST_MODEL", "ASSIST_MODELS_DIR", "ASSIST_MODEL_URL_BASE", "ASSIST_MASK"):
    os.environ.pop(_name, None)


def pytest_unconfigure(config):
    shutil.rmtree(_PROFILE, ignore_errors=True)
