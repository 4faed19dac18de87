"""The colours of a field's marks (a problem, inherited), derived from the widget's palette.

A fixed pale yellow under the theme's text colour is white on yellow in Ryven's dark theme;
here the background is the palette's own Base tinted toward the mark's hue, and the text is
the palette's Text where it stands out enough (WCAG's 4.5:1), else black or white, whichever
stands out more (one of them always reaches 4.5:1).
"""

from __future__ import annotations

from qtpy.QtGui import QColor, QPalette

__all__ = ["MIN_CONTRAST", "contrast_ratio", "mark_colours", "mark_style"]

MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text

_HUES = {"problem": QColor("#e0403a"), "marked": QColor("#e6b800")}
_TINT = 0.35  # how far toward the hue: visible on white and on near-black alike


def _luminance(colour: QColor) -> float:
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return (0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF())
            + 0.0722 * linear(colour.blueF()))


def contrast_ratio(one: QColor, other: QColor) -> float:
    """WCAG 2's contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _mix(base: QColor, hue: QColor, share: float) -> QColor:
    return QColor.fromRgbF(*(b + (h - b) * share for b, h in zip(
        (base.redF(), base.greenF(), base.blueF()), (hue.redF(), hue.greenF(), hue.blueF()),
        strict=True)))


def mark_colours(palette: QPalette, kind: str) -> tuple[QColor, QColor]:
    """The text and background colours of a mark (``"problem"`` or ``"marked"``)."""
    background = _mix(palette.color(QPalette.ColorRole.Base), _HUES[kind], _TINT)
    text = palette.color(QPalette.ColorRole.Text)
    if contrast_ratio(text, background) < MIN_CONTRAST:
        text = max((QColor("black"), QColor("white")),
                   key=lambda c: contrast_ratio(c, background))
    return text, background


def mark_style(palette: QPalette, kind: str | None) -> str:
    """A style sheet for a marked editor's parts; empty without a mark."""
    if kind is None:
        return ""
    text, background = mark_colours(palette, kind)
    border = f" border: 1px solid {_HUES['problem'].name()};" if kind == "problem" else ""
    return f"color: {text.name()}; background: {background.name()};{border}"
