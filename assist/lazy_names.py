"""Public names a package loads on first use (PEP 562 module ``__getattr__``).

A package's ``__init__`` names what it offers; importing the package must not import
everything behind those names (the panel paints before the KB loader, SQLCipher or
numpy are needed). ``lazy_names`` makes the module-level ``__getattr__`` that imports
a name's home module when the name is first asked for, and keeps the value in the
package so the next lookup is a plain attribute. Imports nothing of ours (bottom layer).
Any thread (the import lock serialises the first imports).
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """``__getattr__`` for ``package``: each name in ``homes`` comes from ``package.<homes[name]>``."""

    def __getattr__(name: str) -> object:
        module = homes.get(name)
        if module is None:  # AttributeError lets ``from package import <submodule>`` import it
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
