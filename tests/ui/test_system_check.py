"""On Linux/X11, missing system libraries are named (with the command that installs them)
before Qt starts, instead of Qt's "reinstalling the application may fix this" abort."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from ui.system_check import EXIT_MISSING_LIBRARIES, XCB_LIBRARIES, check_gui_libraries, uses_xcb

ROOT = Path(__file__).resolve().parents[2]
MISSING = ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")     # what a fresh Debian lacked


def loader_without(*missing):
    asked = []

    def loads(name):
        asked.append(name)
        return name not in missing
    return loads, asked


def test_missing_libraries_are_named_with_the_packages_to_install():
    loads, asked = loader_without(*MISSING)
    out = io.StringIO()
    assert not check_gui_libraries({"QT_QPA_PLATFORM": "xcb"}, loads, out)
    text = out.getvalue()
    assert all(name in text for name in MISSING)
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1\n" in text
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms\n" in text
    assert set(asked) == set(XCB_LIBRARIES)                     # every one was tried
    assert "libxcb-cursor" not in text                          # nothing that is there


def test_nothing_is_said_when_everything_is_there():
    loads, _ = loader_without()
    out = io.StringIO()
    assert check_gui_libraries({"DISPLAY": ":0"}, loads, out) and out.getvalue() == ""


def test_only_the_x11_plugin_is_checked():
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux") and uses_xcb({}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb:no-glx;wayland"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux")
    assert not uses_xcb({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not uses_xcb({}, "darwin") and not uses_xcb({}, "win32")
    loads, asked = loader_without(*MISSING)
    assert check_gui_libraries({"QT_QPA_PLATFORM": "offscreen"}, loads, io.StringIO()) and asked == []


_START_WITHOUT_LIBRARIES = """
import functools, sys
from ui import app, system_check
missing = set(sys.argv[1:])
app.check_gui_libraries = functools.partial(system_check.check_gui_libraries, loads=lambda n: n not in missing)
code = app.main([])
print("Qt imported:", "PySide6.QtGui" in sys.modules, flush=True)
sys.exit(code)
"""


def test_the_app_stops_with_the_message_before_qt_starts():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    result = subprocess.run([sys.executable, "-c", _START_WITHOUT_LIBRARIES, *MISSING], capture_output=True,
                            text=True, timeout=60, cwd=ROOT, env=env)
    assert result.returncode == EXIT_MISSING_LIBRARIES, result.stderr
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in result.stderr
    assert "Qt imported: False" in result.stdout
    assert "Reinstalling" not in result.stderr


def test_readme_lists_every_package_the_check_names():
    readme = (ROOT / "README.md").read_text()
    apt = re.search(r"sudo apt install ([^\n`]+)", readme)
    dnf = re.search(r"sudo dnf install ([^\n`]+)", readme)
    assert apt and dnf
    assert {deb for deb, _ in XCB_LIBRARIES.values()} <= set(apt.group(1).split())
    assert {rpm for _, rpm in XCB_LIBRARIES.values()} <= set(dnf.group(1).split())
