"""``kb check`` when the sentence encoder cannot help: the KB is still checked by its patterns.

One way for every caller (``assembly.build_kb_semantics``): no encoder, and a model that fails
with any error, both leave the check to the rules' patterns, with one Chinese notice saying
what was skipped, and the exit code is the KB's verdict, not the model's.
"""
from pathlib import Path

import pytest

import assist.semantics
from assist.cli import main

FIXTURE = Path(__file__).parent / "fixture_kb"


def _broken_model():
    raise OSError("e5-small-q4.bin: unexpected end of file")  # what a truncated model file raises


@pytest.mark.parametrize("encoder, why", [("none", "语义匹配已关闭"), ("broken", "语义模型出错")])
def test_kb_check_without_a_working_encoder_checks_by_patterns(encoder, why, monkeypatch, capsys, latin_words):
    if encoder == "broken":
        monkeypatch.delenv("ASSIST_ENCODER", raising=False)
        monkeypatch.setattr(assist.semantics, "load_encoder", _broken_model)
    else:
        monkeypatch.setenv("ASSIST_ENCODER", "none")
    code = main(["kb", "check", "--kb", str(FIXTURE)])
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    assert "没有问题" in out
    assert why in err and "跳过易混淆" in err, err
    assert "OSError" not in err + out and not latin_words(err), err


def test_kb_check_with_a_broken_model_still_reports_the_kbs_problems(tmp_path, monkeypatch, capsys):
    import shutil

    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE, kb)
    rules = kb / "rules" / "conduct.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("severity: critical", "severity: 很严重"), encoding="utf-8")
    monkeypatch.setattr(assist.semantics, "load_encoder", _broken_model)
    assert main(["kb", "check", "--kb", str(kb)]) == 1
    out = capsys.readouterr().out
    assert "conduct.yaml" in out and "severity" in out
