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


def _parsers(parser, path=("assist",)):
    """(command path, parser) for the top parser and every sub-command under it, however deep."""
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


# Latin a help text may keep besides command and option names and choices (all typed by the user):
# names of formats and products, example values the user types (90d, 征xin, max), a model's name, the
# panel's keys (F1-F12).
HELP_ALLOWED = ("lines", "markdown", "bom", "excel", "png", "sha", "max", "d", "h", "w", "xin", "zq", "huankuan",
                "t21", "corrupt", "cn", "small", "model", *(f"f{n}" for n in range(1, 13)))


def test_every_help_page_placeholder_and_word_is_chinese(latin_words):
    """`assist … --help` for every command: placeholders (FILE, PATH, DIR …) in Chinese, no English prose."""
    from assist.cli import build_parser

    pages = list(_parsers(build_parser()))
    assert len(pages) > 30  # every sub-command, not just the top page
    typed = {name for path, _ in pages for name in path}
    typed |= {str(c) for _, parser in pages for action in parser._actions for c in action.choices or ()}
    for path, parser in pages:
        for action in parser._actions:
            if action.help == "==SUPPRESS==" or not (action.option_strings or action.dest != "help"):
                continue
            shown = action.metavar if action.metavar is not None else (
                None if action.option_strings and action.nargs == 0 else action.dest)
            if isinstance(shown, str) and not (action.choices and "|" in shown) and not (
                    action.choices and action.metavar is None):
                assert not re.search(r"[A-Za-z]{2,}", shown.replace(".wav", "").replace(".csv", "")
                                     .replace(".png", "")), (" ".join(path), action.option_strings, shown)
        page = parser.format_help()
        bad = latin_words(page, also=(*typed, *HELP_ALLOWED))
        assert not bad, f"{' '.join(path)} --help: {sorted(set(bad))}\n{page}"
