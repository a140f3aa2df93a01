"""Qt's own words in Chinese: the buttons and texts of Qt's dialogs (确定/取消/是/否, file dialogs).

PySide6 ships ``qtbase_zh_CN.qm``; loading it into a ``QTranslator`` installed
on the application turns Qt's built-in strings Chinese. GUI thread, once, right
after the QApplication exists.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)


def install_chinese_translations(app) -> bool:
    """Install Qt's zh_CN translations on ``app``; False (and a log line) if they are missing."""
    translator = QTranslator(app)  # parented to the app: it must live as long as the app
    ok = translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_",
                         QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    if not ok:
        log.warning("Qt's Chinese translations (qtbase_zh_CN.qm) were not found; Qt dialogs stay in English")
        return False
    app.installTranslator(translator)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    return True
