"""Audio in: input devices, live capture, WAV replay and the level meter.

Every source (``capture.Capture`` for a live device, ``wav_source.WavSource``
for a recording) turns sound into ``block.AudioBlock`` objects on one bounded
queue per channel (``agent``, ``customer`` or ``unknown``); the recognizer
workers in ``assist.asr`` read those queues. Nothing here imports Qt, and
``sounddevice`` is imported lazily so that PortAudio only starts (and scans
devices) when audio is really used.
"""
