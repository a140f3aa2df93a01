"""Colours, fonts and the style sheet for every assist window.

One ``Theme`` (light or dark) plus a base font size makes one style sheet, so
the font-size control and the theme toggle just re-apply it. The font family
list names a CJK face per platform (Windows, macOS, Linux) so Chinese renders
with a proper font wherever the app runs; Qt picks the first one installed.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontDatabase

# Most specific first: Qt falls back along this list per glyph.
FONT_FAMILIES = (
    "Microsoft YaHei UI", "Microsoft YaHei",  # Windows
    "PingFang SC", "Hiragino Sans GB",  # macOS
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",  # Linux
    "sans-serif",
)
DEFAULT_FONT_PT = 12
MIN_FONT_PT, MAX_FONT_PT = 9, 22

SPEAKER_LABELS = {"agent": "坐席", "customer": "客户", "unknown": "通话"}  # unknown: one mixed channel


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    surface: str  # card background
    text: str
    muted: str  # partial text, secondary labels
    border: str
    accent: str  # current stage, buttons
    agent: str  # speaker colours in the transcript
    customer: str
    unknown: str
    done: str
    skipped: str
    danger: str
    danger_bg: str
    notice_bg: str  # model/device/KB problem banners
    notice_text: str
    faq_bg: str
    line_bg: str

    def speaker_colour(self, speaker: str) -> str:
        return {"agent": self.agent, "customer": self.customer}.get(speaker, self.unknown)


LIGHT = Theme(
    name="light", window="#f4f5f7", surface="#ffffff", text="#1b1f24", muted="#8a919c",
    border="#d6d9de", accent="#1f6feb", agent="#1f6feb", customer="#b35900", unknown="#6e7781",
    done="#1a7f37", skipped="#bf8700", danger="#cf222e", danger_bg="#ffebe9",
    notice_bg="#fff8c5", notice_text="#4d2d00", faq_bg="#eef6ff", line_bg="#f0fff4",
)
DARK = Theme(
    name="dark", window="#16191d", surface="#22272e", text="#e6edf3", muted="#7d8590",
    border="#373e47", accent="#4493f8", agent="#6cb6ff", customer="#f0a35e", unknown="#9ea7b3",
    done="#57ab5a", skipped="#d4a72c", danger="#ff6a69", danger_bg="#3d1d20",
    notice_bg="#3b2e00", notice_text="#f2cc60", faq_bg="#1b2a3d", line_bg="#1b2f23",
)
THEMES = {"light": LIGHT, "dark": DARK}


def ui_font(point_size: int = DEFAULT_FONT_PT) -> QFont:
    """The application font: a CJK-capable family list at the given size (GUI thread)."""
    font = QFont()
    font.setFamilies(list(FONT_FAMILIES))
    font.setPointSize(point_size)
    return font


def cjk_family_available() -> str | None:
    """The first family of ``FONT_FAMILIES`` installed here, for diagnostics and tests."""
    installed = set(QFontDatabase.families())
    return next((f for f in FONT_FAMILIES if f in installed), None)


def style_sheet(theme: Theme, pt: int = DEFAULT_FONT_PT) -> str:
    """The style sheet for every window; object names pick out the parts."""
    t = theme
    big, small = pt + 2, max(pt - 2, MIN_FONT_PT - 1)
    return f"""
QWidget {{ background: {t.window}; color: {t.text}; font-size: {pt}pt; }}
QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser, QListWidget, QTableWidget, QComboBox {{
    background: {t.surface}; color: {t.text}; border: 1px solid {t.border}; border-radius: 4px;
    selection-background-color: {t.accent}; selection-color: #ffffff; }}
QHeaderView::section {{ background: {t.window}; color: {t.muted}; border: none; padding: 2px 4px; }}
QPushButton, QToolButton {{ background: {t.surface}; color: {t.text}; border: 1px solid {t.border};
    border-radius: 4px; padding: 3px 8px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {t.accent}; }}
QToolButton:checked {{ background: {t.accent}; color: #ffffff; }}
QPushButton#callButton {{ background: {t.accent}; color: #ffffff; font-weight: bold; padding: 5px 10px; }}
QPushButton#callButton[live="true"] {{ background: {t.danger}; }}
QLabel#sectionTitle {{ color: {t.muted}; font-size: {small}pt; font-weight: bold; }}
QLabel#muted {{ color: {t.muted}; font-size: {small}pt; }}
QFrame#card {{ background: {t.surface}; border: 1px solid {t.border}; border-radius: 6px; }}
QFrame#card[kind="faq"] {{ background: {t.faq_bg}; border-left: 4px solid {t.accent}; }}
QFrame#card[kind="line"] {{ background: {t.line_bg}; border-left: 4px solid {t.done}; }}
QFrame#card QLabel {{ background: transparent; }}
QLabel#cardTitle {{ color: {t.muted}; font-size: {small}pt; font-weight: bold; }}
QLabel#cardHead {{ font-weight: bold; }}
QLabel#cardBody {{ font-size: {big}pt; }}
QFrame#card[tight="true"] QLabel#cardBody {{ font-size: {pt}pt; }}
QLabel#cardBody[empty="true"] {{ color: {t.muted}; font-size: {pt}pt; }}
QLabel#cardMeta {{ color: {t.muted}; font-size: {small}pt; }}
QFrame#warningBanner {{ background: {t.danger_bg}; border: 2px solid {t.danger}; border-radius: 6px; }}
QFrame#warningBanner QLabel {{ background: transparent; }}
QLabel#warningTitle {{ color: {t.danger}; font-weight: bold; font-size: {big}pt; }}
QFrame#noticeBanner {{ background: {t.notice_bg}; border: 1px solid {t.skipped}; border-radius: 6px; }}
QFrame#noticeBanner QLabel {{ background: transparent; color: {t.notice_text}; }}
QFrame#stepper QLabel {{ background: transparent; }}
QProgressBar {{ background: {t.surface}; border: 1px solid {t.border}; border-radius: 3px;
    max-height: 8px; text-align: center; }}
QProgressBar::chunk {{ background: {t.done}; border-radius: 3px; }}
QFrame#panelFrame {{ border: 3px solid {t.window}; }}
QFrame#panelFrame[flash="true"] {{ border: 3px solid {t.danger}; }}
"""


def apply_look(theme: Theme, pt: int = DEFAULT_FONT_PT) -> None:
    """Set the font and style sheet on the whole application (GUI thread)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return  # no widgets yet (nothing to style)
    app.setFont(ui_font(pt))
    app.setStyleSheet(style_sheet(theme, pt))


def apply_saved_look(settings) -> None:
    """Apply the theme and font size the panel saved in ``settings`` (a QSettings)."""
    theme = THEMES.get(str(settings.value("theme", "light")), LIGHT)
    try:
        pt = int(settings.value("font_pt", DEFAULT_FONT_PT))
    except (TypeError, ValueError):
        pt = DEFAULT_FONT_PT
    apply_look(theme, max(MIN_FONT_PT, min(MAX_FONT_PT, pt)))


def set_style_flag(widget, name: str, on: bool) -> None:
    """Set a boolean dynamic property the style sheet selects on ([live="true"]), and restyle now.

    Qt does not re-evaluate property selectors by itself, hence the unpolish/polish.
    """
    widget.setProperty(name, "true" if on else "false")
    widget.style().unpolish(widget)
    widget.style().polish(widget)
