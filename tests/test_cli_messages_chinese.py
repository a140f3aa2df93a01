"""What the audio, model and analyze commands print for a user is Chinese (issue 12 part 1).

In-process through ``assist.cli.main``, without sound devices or a speech model (tests/audio has the
runs with real ones): every line printed is scanned for Latin words outside what users type or look
for (the scan in tests/conftest.py); model names are names a user types, so they are allowed too.
"""
import json

import pytest

from assist.asr.models import KNOWN_MODELS
from assist.cli import main


def _scan(latin_words, text: str) -> list[str]:
    for name in KNOWN_MODELS:
        text = text.replace(name, " ")
    return latin_words(text, also=("SHA", "HTTP", "zip", "Windows"))


def test_model_list_and_missing_model(capsys, latin_words, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSIST_MODELS_DIR", str(tmp_path / "models"))
    assert main(["model", "list"]) == 0
    out = capsys.readouterr().out
    assert "可下载的模型" in out and "已安装" in out and not _scan(latin_words, out), _scan(latin_words, out)
    assert main(["model", "path"]) == 2
    err = capsys.readouterr().err
    assert "没有安装语音模型" in err and "assist model download" in err and not _scan(latin_words, err), err
    (tmp_path / "half").mkdir()
    monkeypatch.setenv("ASSIST_MODEL", str(tmp_path / "half"))
    assert main(["model", "path"]) == 2
    err = capsys.readouterr().err
    assert "不完整" in err and not _scan(latin_words, err), err


def test_replay_settings_errors(capsys, latin_words, tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")
    for argv, words in ((["--speed", "fast"], "无法识别"), (["--speed", "-2"], "必须大于 0"),
                        (["--playbook", "nope", "--speed", "max"], "知识库里没有话术“nope”")):
        assert main(["replay", str(wav), "--no-store", *argv]) == 2
        err = capsys.readouterr().err
        assert words in err and not _scan(latin_words, err), err


@pytest.mark.parametrize("line, words", [
    ('{"speaker": "agent", "text": "你好",}', "第 "),
    ('{"speaker": "agent" "text": "你好"}', "缺少逗号"),
    ('{"speaker": "agent", "text": "你好', "引号没有闭合"),
    ('{"speaker": "robot", "text": "你好"}', "只能是"),
    ('{"speaker": "agent", "text": "你好"} {}', "只能有一个"),
])
def test_analyze_input_errors(tmp_path, capsys, latin_words, line, words):
    t = tmp_path / "t.jsonl"
    t.write_text(line + "\n", encoding="utf-8")
    assert main(["analyze", str(t)]) == 2
    err = capsys.readouterr().err
    assert words in err and not _scan(latin_words, err), err


def test_analyze_option_errors(tmp_path, capsys, latin_words):
    t = tmp_path / "t.jsonl"
    t.write_text(json.dumps({"speaker": "agent", "text": "你好"}) + "\n", encoding="utf-8")
    assert main(["analyze", str(t), "--started-at", "昨天晚上"]) == 2
    err = capsys.readouterr().err
    assert "不是日期时间" in err and not _scan(latin_words, err), err
    assert main(["analyze", str(t), "--playbook", "nope"]) == 2
    err = capsys.readouterr().err
    assert "没有编号为 'nope' 的话术" in err and "'changjiang_extension'" in err and not _scan(latin_words, err), err


def test_stats_line_is_chinese(latin_words):
    from assist.cli.audio import _stats_line

    line = _stats_line({"agent": {"audio_seconds": 12.0, "finals": 3, "real_time_factor": 0.4, "dropped": 0,
                                  "overflows": 0, "lost": 1}})
    assert "坐席声道" in line and "3 句" in line and not latin_words(line), line
