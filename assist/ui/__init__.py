"""The Qt side of assist: the live side panel, the KB browser and session review.

This package is the only place that imports PySide6. Everything here runs on
the GUI thread, except ``bridge.EventBridge.__call__``, which worker threads
call to hand events over through queued Qt signals. ``app`` is where the
objects are created and wired together.
"""
