"""The Qt-free assist engine: FAQ matching, script-stage tracking, compliance checks."""
from assist.engine.assistant import AssistEngine, UnknownPlaybook

__all__ = ["AssistEngine", "UnknownPlaybook"]
