"""``assist kb check`` with the encoder: confusable FAQ phrasings are warnings with file:line."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE_KB = Path(__file__).parent / "fixture_kb"


def test_phrasing_closer_to_another_faq_is_a_warning_with_its_line(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    f = kb / "faqs" / "car.yaml"
    text = f.read_text(encoding="utf-8")
    # a paraphrase of "when is the GPS removed" put under the insurance FAQ by mistake
    f.write_text(text.replace("      - 非得在你们那上保险吗\n", "      - 非得在你们那上保险吗\n      - 定位器啥时候能拆掉\n"),
                 encoding="utf-8")
    line = next(n for n, l in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if "定位器啥时候能拆掉" in l)
    p = subprocess.run([sys.executable, "-m", "assist", "kb", "check", "--kb", str(kb)],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert p.returncode == 0, p.stdout + p.stderr  # warnings, not errors
    warned = [l for l in p.stdout.splitlines() if "的说法“定位器啥时候能拆掉”" in l]
    assert warned and f"faqs/car.yaml:{line}:" in warned[0] and "警告" in warned[0]
    assert "车上装的定位器什么时候能拆" in warned[0]  # names the FAQ it lands on


def test_clean_fixture_kb_has_no_confusion_warnings():
    p = subprocess.run([sys.executable, "-m", "assist", "kb", "check", "--kb", str(FIXTURE_KB)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "警告" not in p.stdout, p.stdout
