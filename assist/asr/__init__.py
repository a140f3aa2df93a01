"""Speech recognition: model management (``models``) and the per-channel vosk workers (``recognizer``).

``vosk`` is imported lazily, inside ``recognizer``, so listing or downloading
models does not load the Kaldi library.
"""
