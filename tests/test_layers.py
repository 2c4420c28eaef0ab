"""The layers' import rules (docs/architecture.md), in the spirit of import-linter:
engine imports neither Qt nor the application; the application imports no widgets
(but for the CLI's entry, which starts the GUI); the plots never import the engine."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RULES = [
    ("engine", ("PySide6", "pyqtgraph", "playground", "ui"), ()),
    ("playground", ("ui", "pyqtgraph"), (("playground/cli.py", "ui.app"),)),
    ("playground", ("PySide6",), (("playground/worker.py", "PySide6.QtCore"),)),
    ("ui/plots", ("engine",), ()),
]


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package,banned,allowed", RULES, ids=[f"{r[0]} !-> {'/'.join(r[1])}" for r in RULES])
def test_layer_rule(package, banned, allowed):
    broken = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for module in imported_modules(path):
            if module.split(".")[0] in banned and (rel, module) not in allowed:
                broken.append(f"{rel} imports {module}")
    assert broken == []


def test_the_rules_can_fail(tmp_path, monkeypatch):
    """A rule that never fails checks nothing: an engine module importing Qt is caught."""
    module = tmp_path / "engine" / "bad.py"
    module.parent.mkdir()
    module.write_text("from PySide6.QtCore import QObject\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError):
        test_layer_rule("engine", ("PySide6",), ())
