"""The built wheel works outside the checkout: KB, sample call and commands from the installed package.

The wheel is built from this repository (``pip wheel --no-build-isolation``: offline,
with the test extra's setuptools), installed with ``--no-deps`` into a fresh venv
whose dependencies are this venv's site-packages seen through a ``.pth`` line (so
the test needs no network and takes seconds; that every requirement in the wheel's
metadata is met there is checked). Every command then runs from an empty folder
with a fresh profile, so nothing can come from the source tree.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(dist), str(ROOT)], check=True, capture_output=True, text=True)
    wheel = next(dist.glob("assist-*.whl"))
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # this venv's packages (PySide6, vosk, numpy ...) but not its editable assist: a .pth line
    # adds the folder to sys.path without running that folder's own .pth files
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, text=True)
    work = base / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSIST_") and k != "PYTHONPATH"}
    env.update(ASSIST_DATA_DIR=str(base / "data"), ASSIST_CONFIG_DIR=str(base / "config"),
               ASSIST_CACHE_DIR=str(base / "cache"), QT_QPA_PLATFORM="offscreen")
    return {"wheel": wheel, "bin": env_dir / "bin", "py": py, "cwd": work, "env": env}


def run(installed, *args, **kw):
    return subprocess.run([str(installed["bin"] / "assist"), *args], cwd=installed["cwd"], env=installed["env"],
                          capture_output=True, text=True, timeout=120, **kw)


def test_wheel_carries_the_kb_and_the_sample_call(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    assert "assist/_data/kb/settings.yaml" in names and "assist/_data/resources/demo_call.jsonl" in names
    assert any(n.startswith("assist/_data/kb/faqs/") and n.endswith(".yaml") for n in names)
    assert not any(n.startswith(("tests/", "kb/", "bench/")) for n in names)


def test_installed_package_is_the_wheel_and_its_requirements_are_met(installed):
    code = ("import assist, importlib.metadata as m, json; "
            "from packaging.requirements import Requirement; "
            "missing = [str(r) for r in map(Requirement, m.requires('assist') or []) "
            "if (r.marker is None or r.marker.evaluate({'extra': ''})) and r.name.lower() not in "
            "{d.metadata['Name'].lower().replace('_', '-') for d in m.distributions()} ]; "
            "print(json.dumps([assist.__file__, missing]))")
    out = subprocess.run([str(installed["py"]), "-c", code], cwd=installed["cwd"], env=installed["env"],
                         capture_output=True, text=True, check=True).stdout
    where, missing = json.loads(out)
    assert str(ROOT) not in where and "site-packages" in where
    assert missing == []


def test_kb_check_analyze_and_demo_run_from_anywhere(installed):
    p = run(installed, "kb", "check")
    assert p.returncode == 0, p.stdout + p.stderr
    transcript = installed["cwd"] / "call.jsonl"
    transcript.write_text(
        '{"speaker": "customer", "text": "展期以后会不会影响我的征信"}\n'
        '{"speaker": "agent", "text": "你不还钱我们就去你单位找你领导"}\n', encoding="utf-8")
    p = run(installed, "analyze", str(transcript))
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(rows) == 2 and rows[0]["faq"] and rows[1]["warnings"]
    p = run(installed, "demo", "--fast", "--quit-after", "6")
    assert p.returncode == 0, p.stderr[-2000:]
    assert "Traceback" not in p.stderr


def test_a_broken_user_kb_is_an_error_naming_file_and_line_not_the_bundled_kb(installed):
    own = Path(installed["env"]["ASSIST_DATA_DIR"]) / "kb"
    (own / "playbooks").mkdir(parents=True)
    (own / "playbooks" / "p.yaml").write_text(
        "id: p\ntitle: 测试\nsource: 测试\nstages:\n  - id: s1\n    title: 开场\n     lines: [您好]\n",
        encoding="utf-8")
    try:
        p = run(installed, "kb", "check")
        assert p.returncode == 1 and "playbooks/p.yaml:7" in p.stdout, p.stdout + p.stderr
        transcript = installed["cwd"] / "one.jsonl"
        transcript.write_text('{"speaker": "agent", "text": "您好"}\n', encoding="utf-8")
        p = run(installed, "analyze", str(transcript))
        assert p.returncode == 2 and "playbooks/p.yaml:7" in p.stderr and p.stdout == ""
    finally:
        import shutil

        shutil.rmtree(own)
