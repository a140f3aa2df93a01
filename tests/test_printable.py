"""printable: escape sequences go whole, in their 7-bit (ESC …) and 8-bit (C1) forms alike."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assist.printable import printable

# (7-bit form, 8-bit form) of the same sequence, each between two words
SEQUENCES = [
    ("\x1b[2J", "\x9b2J"),  # clear screen
    ("\x1b[31;1m", "\x9b31;1m"),  # colour
    ("\x1b[?1049h", "\x9b?1049h"),  # alternate screen (private parameter)
    ("\x1b[1 q", "\x9b1 q"),  # cursor shape (intermediate byte)
    ("\x1b]0;标题\x07", "\x9d0;标题\x07"),  # window title, ended by BEL
    ("\x1b]52;c;Y3VybCBldmlsfHNo\x1b\\", "\x9d52;c;Y3VybCBldmlsfHNo\x9c"),  # OSC 52 clipboard, ended by ST
    ("\x1bP+q544e\x1b\\", "\x90+q544e\x9c"),  # DCS
    ("\x1b_应用\x1b\\", "\x9f应用\x9c"),  # APC
    ("\x1b^隐私\x1b\\", "\x9e隐私\x9c"),  # PM
]


@pytest.mark.parametrize("seven, eight", SEQUENCES)
def test_both_forms_of_a_sequence_are_removed_whole(seven, eight):
    for seq in (seven, eight):
        assert printable(f"还款{seq}日期") == "还款日期", repr(seq)


def test_parameters_of_an_8_bit_csi_do_not_stay_as_text():
    assert printable("金额\x9b2J\x9b0;31m五千元") == "金额五千元"
    assert "2J" not in printable("\x9b2J")


def test_a_stray_c1_character_loses_only_itself():
    # U+009D is what a curly quote becomes when UTF-8 is read as Latin-1: it introduces an
    # OSC string on a terminal, but with no terminator the words after it are kept
    assert printable("â€\x9d您好，请问是张先生吗") == "â€您好，请问是张先生吗"
    assert printable("\x1b]0;没有结尾的标题") == "0;没有结尾的标题"
    # an unfinished CSI: the introducer goes, the digits are only digits
    assert printable("逾期\x9b15天") == "逾期15天"


def test_tab_newline_and_chinese_kept():
    assert printable("第一行\t甲\n第二行") == "第一行\t甲\n第二行"
    assert printable("第一行\n第二行", newlines=False) == "第一行 第二行"


_PARAM = st.text(alphabet=[chr(c) for c in range(0x30, 0x40)], max_size=12)
_INTER = st.text(alphabet=[chr(c) for c in range(0x20, 0x30)], max_size=3)
_FINAL = st.sampled_from([chr(c) for c in range(0x40, 0x7F)])


@settings(max_examples=200, deadline=None)
@given(_PARAM, _INTER, _FINAL, st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs")), max_size=20))
def test_any_csi_goes_whole_in_either_form(params, inter, final, words):
    for intro in ("\x1b[", "\x9b"):
        assert printable(words + intro + params + inter + final + words) == words + words
