"""Before Qt starts on Linux/X11: are the system libraries its xcb plugin needs there?

Without them Qt aborts with "Could not load the Qt platform plugin "xcb" ... Reinstalling
the application may fix this problem", which sends people the wrong way: the wheel is
fine, a few system packages are missing (on a fresh Debian: libxcb-icccm4,
libxcb-keysyms1, libxcb-cursor0).  This module names them instead.  It imports no Qt:
some of these libraries are needed by QtGui itself, whose import would fail first.

The list is what PySide6's ``Qt/plugins/platforms/libqxcb.so``, ``libQt6XcbQpa.so.6``
and ``libQt6Gui.so.6`` link against (``readelf -d``), minus what any Linux has.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Callable, Iterable

# soname -> (Debian/Ubuntu package, Fedora package)
XCB_LIBRARIES = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}
EXIT_MISSING_LIBRARIES = 1


def uses_xcb(environ=os.environ, platform: str = sys.platform) -> bool:
    """Will Qt try its X11 (xcb) plugin first?  Not for offscreen, Wayland, macOS or Windows."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0].strip() == "xcb"
    # Unset: Qt picks Wayland first in a Wayland session, xcb otherwise.
    return not (environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"))


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(sonames: Iterable[str] = XCB_LIBRARIES, loads: Callable[[str], bool] = _loads) -> list[str]:
    """The sonames the dynamic loader cannot load (``loads`` is replaceable for tests)."""
    return [name for name in sonames if not loads(name)]


def _packages(missing: list[str], column: int) -> str:
    return " ".join(dict.fromkeys(XCB_LIBRARIES[name][column] for name in missing if name in XCB_LIBRARIES))


def missing_message(missing: list[str]) -> str:
    """What is missing and the command that installs it, for the terminal."""
    return ("NN Playground cannot open its window: Qt's X11 (xcb) platform plugin needs system libraries "
            "that are not installed:\n  " + "\n  ".join(missing) + "\n\n"
            "Install them with\n"
            f"  Debian/Ubuntu:  sudo apt install {_packages(missing, 0)}\n"
            f"  Fedora:         sudo dnf install {_packages(missing, 1)}\n"
            "then start the app again (README.md, 'Set-up', lists every package).\n"
            "Headless use (playground train/export/gradcheck) does not need them.")


def check_gui_libraries(environ=os.environ, loads: Callable[[str], bool] = _loads, out=sys.stderr) -> bool:
    """True when the window can open; else prints what is missing to ``out`` and returns False."""
    if not uses_xcb(environ):
        return True
    missing = missing_libraries(XCB_LIBRARIES, loads)
    if missing:
        print(missing_message(missing), file=out)
    return not missing
