"""Not part of the knowledge base: marks this folder as the package data ``assist._data.kb``.

Packaging (setup.py) ships this folder inside assist; this file lets an editable
install find it the same way as an installed wheel (importlib.resources).
The loader reads only the .yaml files.
"""
