"""assist: an offline agent-assist side panel for Mandarin consumer-finance calls.

The core (knowledge base, engine, audio, recognition, store) is Qt-free; only
``assist.ui`` imports PySide6. Events flow one way:
audio -> recognizer -> engine -> panel and store (see ``assist.events``).
"""

__version__ = "0.1.0"
