"""``analyze`` input that is hostile or broken: refused with a Chinese message naming the line,
before any output; UTF-8 with a BOM is fine; GB18030 is recognised and named."""
import json
import subprocess
import sys

import pytest

from assist.cli.analyze import read_transcript
from assist.cli.common import UsageError

GOOD = '{"speaker": "agent", "text": "您好"}\n'


def write(tmp_path, data: bytes):
    p = tmp_path / "t.jsonl"
    p.write_bytes(data)
    return str(p)


def refused(tmp_path, data: bytes) -> str:
    with pytest.raises(UsageError) as e:
        read_transcript(write(tmp_path, data))
    return str(e.value)


def test_bom_and_empty_lines_are_fine(tmp_path):
    data = b"\xef\xbb\xbf" + GOOD.encode() + b"\n   \n" + "\ufeff".encode() + GOOD.encode()
    assert [u.text for u in read_transcript(write(tmp_path, data))] == ["您好", "您好"]


def test_gb18030_is_named_with_the_fix(tmp_path):
    msg = refused(tmp_path, GOOD.encode("gb18030"))
    assert "GB18030" in msg and "UTF-8" in msg and "iconv" in msg


@pytest.mark.parametrize("line,words", [
    (b"\x00\x01\x02\xff\xfe binary", "二进制"),
    (("[" * 100_000 + "]" * 100_000).encode(), "嵌套"),
    (('{"speaker": "agent", "text": "a", "start": ' + "9" * 5000 + "}").encode(), "JSON"),
    (b'{"speaker": "agent", "text": "a", "start": 1e999}', "秒数"),
    (b'{"speaker": "agent", "text": "a", "start": NaN}', "秒数"),
    (b'{"speaker": "agent", "text": "\\ud800"}', "代理项"),
    (b'{"speaker": ["agent"], "text": "a"}', "说话人"),
    (b'{"speaker": "agent", "text": "a", "final": "no"}', "final"),
])
def test_hostile_line_is_refused_naming_line_two(tmp_path, line, words):
    msg = refused(tmp_path, GOOD.encode() + line + b"\n")
    assert ":2:" in msg and words in msg


def test_output_is_utf8_even_with_a_latin1_locale(tmp_path):
    p = write(tmp_path, (GOOD + '{"speaker": "customer", "text": "展期会影响征信吗"}\n').encode())
    env = {"PYTHONIOENCODING": "latin-1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "assist", "analyze", p], capture_output=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    rows = [json.loads(x) for x in r.stdout.decode("utf-8").splitlines()]
    assert [x["text"] for x in rows] == ["您好", "展期会影响征信吗"]
