"""A corrupt autosave never stops the app from starting: it is set aside, named in a
message, and the next start is clean (issue: hostile input and faults)."""
from __future__ import annotations

import json
import os

import pytest

from tests.ui.conftest import EXAMPLES

VALID = json.loads((EXAMPLES / "circle.json").read_text())

BAD_RECORDS = {
    "empty list": "[]",
    "a string": '"hello"',
    "null": "null",
    "a number": "42",
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "huge seed": json.dumps({"source": None, "project": {**VALID, "seed": int("9" * 400)}}),
    "not JSON": "{ not json",
    "binary": None,
    "invalid project": json.dumps({"source": None, "project": {**VALID, "format": "something else"}}),
    "source not a name": json.dumps({"source": 12, "project": VALID}),
}


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_unreadable_autosave_is_set_aside_and_the_app_starts(qtbot, make_window, case):
    window = make_window("circle.json")
    path = window.autosave.path
    text = BAD_RECORDS[case]
    if text is None:
        path.write_bytes(b"\xff\xfe\x00garbage\x80")
    else:
        path.write_text(text, encoding="utf-8")
    window.controller.shutdown()            # a crash: the file stays
    second = make_window("spiral.json")
    assert second.offer_recovery() is False
    assert not path.exists()                # never read again at the next start
    (kind, kept_as, reason), = second.prompter.asked
    assert kind == "unreadable" and kept_as is not None and kept_as.exists() and reason
    assert kept_as.read_bytes() == (text.encode() if text is not None else b"\xff\xfe\x00garbage\x80")
    assert second.keeper.project.name == json.loads((EXAMPLES / "spiral.json").read_text())["name"]
    assert make_window("spiral.json").offer_recovery() is False     # the next start is clean and silent


def test_a_fifo_as_autosave_does_not_block_start_up(qtbot, make_window):
    window = make_window("circle.json")
    path = window.autosave.path
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    assert window.offer_recovery() is False
    (kind, kept_as, reason), = window.prompter.asked
    assert kind == "unreadable" and "regular file" in reason and not path.exists()
