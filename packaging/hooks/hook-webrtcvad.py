# Replaces pyinstaller-hooks-contrib's hook for ``webrtcvad``: that one copies the metadata of a
# distribution named "webrtcvad" and stops the build when it is not installed. assist installs
# the maintained build of the same module, distributed as "webrtcvad-wheels" (assist/asr/gate.py).
from PyInstaller.utils.hooks import copy_metadata

datas = copy_metadata("webrtcvad-wheels")
