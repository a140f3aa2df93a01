"""Settings in one place: which KB folder is used, where user data goes, env variables read in config only."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assist import config
from assist._data import bundled_kb_dir, demo_call_path
from assist.knowledge import KBError, load_kb

PKG = Path(__file__).resolve().parents[1] / "assist"


def _write_kb(folder: Path, faq_question: str = "测试问题是什么") -> Path:
    (folder / "playbooks").mkdir(parents=True)
    (folder / "faqs").mkdir()
    (folder / "playbooks" / "p.yaml").write_text(
        "id: p\ntitle: 测试话术\nsource: 测试\nstages:\n  - id: s1\n    title: 开场\n    lines: [您好]\n",
        encoding="utf-8")
    (folder / "faqs" / "f.yaml").write_text(
        f"faqs:\n  - id: f.one\n    question: {faq_question}\n    answer: 测试答案\n", encoding="utf-8")
    return folder


def test_bundled_data_is_found_through_the_package():
    assert (bundled_kb_dir() / "playbooks").is_dir()
    assert demo_call_path().is_file()


def test_kb_choice_order(tmp_path, monkeypatch):
    assert config.choose_kb().origin == "bundled"
    own = _write_kb(config.user_kb_dir())
    try:
        assert config.choose_kb() == config.KbChoice(own, "user")
        saved = _write_kb(tmp_path / "saved")
        config.save_config(config.UserConfig(kb_dir=str(saved)))
        assert config.choose_kb().origin == "settings"
        monkeypatch.setenv("ASSIST_KB", str(tmp_path / "env"))
        assert config.choose_kb() == config.KbChoice(tmp_path / "env", "env")
        assert config.choose_kb(tmp_path / "x").origin == "option"
    finally:
        import shutil

        shutil.rmtree(own)
        config.config_path().unlink(missing_ok=True)


def test_broken_user_kb_is_reported_not_replaced_by_the_bundled_one(tmp_path):
    own = _write_kb(config.user_kb_dir())
    try:
        (own / "faqs" / "f.yaml").write_text(
            "faqs:\n  - id: f.one\n    question: 问\n    answer: 答\n   - bad: 缩进错了\n  - id: f.two\n",
            encoding="utf-8")
        with pytest.raises(KBError) as e:
            load_kb()
        assert "faqs/f.yaml:5" in str(e.value)
        p = subprocess.run([sys.executable, "-m", "assist", "kb", "check"], capture_output=True, text=True)
        assert p.returncode == 1 and "faqs/f.yaml:5" in p.stdout
    finally:
        import shutil

        shutil.rmtree(own)


def test_user_folders_follow_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("ASSIST_CACHE_DIR")
    monkeypatch.delenv("ASSIST_MODELS_DIR", raising=False)
    assert config.models_dir() == tmp_path / "d" / "models"
    assert config.cache_dir() == tmp_path / "d" / "cache"
    assert config.user_kb_dir() == tmp_path / "d" / "kb"


def test_environment_is_read_in_config_only():
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.name == "config.py" and path.parent == PKG:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[", text):
            offenders.append(str(path.relative_to(PKG)))
    assert offenders == [], offenders
