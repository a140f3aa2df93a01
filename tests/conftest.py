"""The whole suite runs in a throw-away profile: nothing of the real user's is read or written.

Set before any test module is imported (some load the KB at import time), so the
user's own settings, sessions, caches or KB folder never leak into a test, and
subprocesses started by tests inherit the same profile. Also here: the Latin-word scan that tests
of user-facing messages share (``latin_words``).
"""
import os
import re
import shutil
import tempfile

import pytest

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


# ---------------------------------------------------------------- Latin words in messages for users
# Text a team lead or an agent reads is Chinese. What may stay Latin: what they type or look for
# (quoted values and field names, file and folder names, commands and options of `assist`), format,
# encoding and unit names, and the product's own abbreviations. tests/ui/test_chinese_only.py scans
# widgets the same way (with pinyin allowed, since a search box shows what the agent typed).
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|“[^”\n]*”|‘[^’\n]*’|《[^》\n]*》")
_PATHISH = re.compile(r"[^\s（）()，。；：:“”、]*[/\\][^\s（）()，。；：“”、]*|[\w.-]*\.(?:ya?ml|jsonl?|csv|md|wav|db)\b")
_COMMAND = re.compile(r"\bassist(?: [a-z][a-z-]*)*|(?<![\w-])--?[a-z][a-z-]*|\bASSIST_[A-Z_]+|\bPULSE_[A-Z_]+")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*")
LATIN_ALLOWED = {"kb", "app", "id", "csv", "json", "yaml", "utf", "gbk", "gb18030", "mb", "gb", "wav", "ms", "hz",
                 "onnx", "vosk", "pcm", "x", "xx"}


def latin_words(text: str, also: tuple[str, ...] = ()) -> list[str]:
    """Latin words in ``text`` outside what users type or look for (see above) and ``also``."""
    allowed = LATIN_ALLOWED | {a.lower() for a in also}
    stripped = _COMMAND.sub(" ", _PATHISH.sub(" ", _QUOTED.sub(" ", text)))
    return [w for w in _LATIN.findall(stripped) if w.lower() not in allowed]


@pytest.fixture(name="latin_words")
def latin_words_fixture():
    """The scan above, for tests that check what users read."""
    return latin_words
