"""The command line speaks Chinese to agents and team leads: help, argparse's own words, kb messages."""
import re

import pytest

from assist.cli import main


def test_help_is_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法：") and "显示本帮助并退出" in out and "浏览和搜索知识库" in out
    # Latin only for command and option names, placeholders, file formats and tool names.
    prose = re.sub(r"--?[a-z-]+|\b(analyze|kb|sessions|devices|model|replay|listen|demo|browse|review|ledger|assist|"
                   r"JSON|Lines|vosk|WAV|ASSIST_\w+)\b", "", out)
    assert not re.search(r"[A-Za-z]{3,}", prose), prose


def test_missing_argument_error_is_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["sessions", "purge"])
    assert "缺少必需的参数" in capsys.readouterr().err


def test_kb_search_prints_kinds_in_chinese_and_no_ids(capsys):
    assert main(["kb", "search", "huankuan"]) == 0
    out = capsys.readouterr().out
    assert "【问答】" in out and "还款" in out
    assert not re.search(r"\b[a-z]+\.[a-z_]+\b", out)  # no FAQ ids like cc.pay_later
    assert main(["kb", "search", "从来没有的词语组合"]) == 1  # nothing found: exit status 1, as before
    assert "没有找到" in capsys.readouterr().out
