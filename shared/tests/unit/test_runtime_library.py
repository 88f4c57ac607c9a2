"""The runtime library ships nothing that only tests need."""

from __future__ import annotations

import ast
from pathlib import Path

import smart_shared

TEST_TOOLS = {"pytest", "testcontainers", "hypothesis", "smart_testing"}


def test_the_runtime_library_imports_no_test_tool() -> None:
    found = []
    for path in Path(smart_shared.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {name}" for name in names
                      if name.split(".")[0] in TEST_TOOLS]
    assert found == []
