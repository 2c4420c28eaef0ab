"""Guard against the PySide6 release that corrupts None's reference count.

PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void Qt call
(QPainter.drawRect, setClipRect, ...), and a pyqtgraph window then aborts with
"Fatal Python error: none_dealloc" within seconds.  pyproject.toml pins around it;
this test fails if an installed binding has the bug again.
"""
import sys

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter


def test_void_painter_calls_keep_none_refcount():
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        before = sys.getrefcount(None)
        for i in range(5000):
            painter.drawRect(QRect(i % 50, 1, 10, 10))
            painter.setClipRect(QRect(0, 0, 60, 60))
        after = sys.getrefcount(None)
    finally:
        painter.end()
    # Unrelated code may take or drop a few references; the bug drops 10,000.
    assert abs(after - before) < 100
