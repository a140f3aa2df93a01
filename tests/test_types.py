"""mypy on assist/ (settings in pyproject.toml) is clean, so every landing keeps it clean.

scripts/test.sh runs it too; running it here as well means the landing protocol's
pytest catches a type error in the change that introduces it, not at the end.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_nothing():
    p = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
