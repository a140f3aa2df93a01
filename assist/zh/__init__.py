"""Chinese text helpers shared by the knowledge base, the engine and the store.

The bottom of the house: pinyin keys and compaction of recognizer output (``text``),
Chinese numerals (``numerals``) and due dates said aloud (``dates``). Imports nothing
of assist's own, so every other package may import it.
"""
