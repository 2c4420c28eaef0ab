"""Status-bar fields sized for the widest text they can show, in whatever font.

Each field has a fixed size: a label whose size follows its text changes its size
hint with every new number and relays out the whole window, many times a second.
The fixed sizes are measured on the widest text each field can show (fontMetrics
on worst-case strings, not an average character width) and measured again when
the font changes (View > Zoom).  When the window is too narrow for all of them,
the fields share what room there is and elide their text; the whole text is
always in the tooltip.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

PADDING = 4         # pixels either side of a field's text


class StatusField(QLabel):
    """A label showing ``full_text`` elided to its width, the whole of it in the tooltip."""

    def __init__(self, name: str, widest: str):
        super().__init__()
        self.widest = widest
        self.full_text = ""
        self.setAccessibleName(name)
        self.setContentsMargins(PADDING, 0, PADDING, 0)

    def show_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.ElideRight, self.contentsRect().width()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self._elide()


class StatusFields(QWidget):
    """A row of ``StatusField``s for QStatusBar.addPermanentWidget.

    It asks for the fields' natural widths but accepts less (its minimum size hint is
    small), so the fields never force the window wider than the screen.
    """

    def __init__(self, fields: dict[str, StatusField], parent=None):
        super().__init__(parent)
        self.fields = fields
        self.setAccessibleName("Training status")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addStretch(1)        # extra room goes left of the fields: they stay at the right edge
        for field in fields.values():
            layout.addWidget(field)
        self._natural = [0] * len(fields)
        self._measure()

    def _measure(self) -> None:
        # The row's font, not each field's: on a change of the application's font the
        # row may hear of it before its fields do (they follow it, and re-elide then).
        metrics = self.fontMetrics()
        self._natural = [metrics.horizontalAdvance(field.widest) + 2 * PADDING + 1 for field in self.fields.values()]
        self.updateGeometry()
        self._share(self.width())

    def _share(self, width: int) -> None:
        """Natural widths when they fit in ``width``; otherwise shares of it in proportion."""
        total = sum(self._natural)
        scale = min(1.0, width / total) if total else 1.0
        height = self.fontMetrics().height() + 4
        for field, natural in zip(self.fields.values(), self._natural):
            field.setFixedSize(int(natural * scale), height)

    def sizeHint(self) -> QSize:
        return QSize(sum(self._natural), self.fontMetrics().height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height() + 4)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._share(event.size().width())

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self._measure()
