"""Data shipped inside the package: the bundled knowledge base and the sample call.

The files stay where team leads edit them, at the top of the repository (``kb/``,
``resources/``); packaging maps those folders to the subpackages ``assist._data.kb``
and ``assist._data.resources`` (see ``setup.py``), so a wheel, an editable install and
a PyInstaller bundle all find them the same way, through ``importlib.resources``.
Any thread.
"""
from __future__ import annotations

import importlib.resources as importlib_resources  # not "resources": that is a subpackage here
from pathlib import Path


def _folder(package: str) -> Path:
    # Installed as plain files (wheel, editable, PyInstaller): the traversable is a real
    # folder, which the KB watcher needs. A zipped install is not supported.
    try:
        found = importlib_resources.files(package)
    except ModuleNotFoundError:
        # Run from a source checkout without installing (PYTHONPATH=.), or through an
        # editable install made before setup.py mapped these folders: same files.
        checkout = Path(__file__).resolve().parents[2] / package.rsplit(".", 1)[1]
        if (checkout / "__init__.py").is_file():
            return checkout
        raise
    path = Path(str(found))
    if not path.is_dir():
        raise FileNotFoundError(f"{package} is not a folder on disk: {found}")
    return path


def bundled_kb_dir() -> Path:
    """The knowledge base that ships with assist (read-only in an installed copy)."""
    return _folder("assist._data.kb")


def demo_call_path() -> Path:
    """The sample call ``assist demo`` plays (JSON Lines)."""
    return _folder("assist._data.resources") / "demo_call.jsonl"
