"""Not part of the sample data: marks this folder as the package data ``assist._data.resources``.

Packaging (setup.py) ships this folder inside assist; this file lets an editable
install find it the same way as an installed wheel (importlib.resources).
The demo reads demo_call.jsonl.
"""
