"""What the engine tests of a broken knowledge base share: a throw-away copy of the shipped KB to break,
and every problem the loader reports for a folder, as ``file:line: message`` strings."""
import shutil

import pytest

from assist.knowledge import collect_issues, default_kb_dir


@pytest.fixture
def kb_copy(tmp_path):
    """A copy of the KB the product ships, in ``tmp_path / "kb"``, for a test to break."""
    dst = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), dst)
    return dst


@pytest.fixture
def issues_of():
    """``issues_of(root)``: every problem ``collect_issues`` finds in ``root``, as printed by ``kb check``."""
    return lambda root: [str(i) for i in collect_issues(root)[1]]
