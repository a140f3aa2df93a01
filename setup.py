"""Packaging beyond what pyproject.toml can say: ship kb/ and resources/ inside the package.

The knowledge base and the sample call stay at the top of the repository, where team
leads edit them; here they become the subpackages ``assist._data.kb`` and
``assist._data.resources`` (found at run time with importlib.resources, see
assist/_data/__init__.py). Everything else is in pyproject.toml.
"""
from setuptools import find_packages, setup

DATA = {"assist._data.kb": "kb", "assist._data.resources": "resources"}

setup(
    packages=find_packages(include=["assist", "assist.*"]) + list(DATA),
    package_dir=DATA,
    package_data={
        "assist._data.kb": ["*.yaml", "*.yml", "*.md", "*/*.yaml", "*/*.yml"],
        "assist._data.resources": ["*.jsonl"],
    },
)
