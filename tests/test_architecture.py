"""The shape of the code, checked on every run: layers that only point down (import-linter's
contracts in pyproject.toml), and no import hidden inside a function without a reason."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is a dev dependency: scripts/test installs it"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "broken" not in result.stdout.lower().split("contracts:")[-1].split(",")[0]


def _nested_imports(tree: ast.Module):
    """Imports inside functions (module-level ones, TYPE_CHECKING blocks included, are fine)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner


def test_imports_inside_functions_say_why():
    unexplained = []
    for path in sorted((ROOT / "webchat").rglob("*.py")):
        if "migrations" in path.parts:
            continue  # a migration is frozen in time: it imports what it needs where it runs
        lines = path.read_text().splitlines()
        for node in _nested_imports(ast.parse("\n".join(lines))):
            here, above = lines[node.lineno - 1], lines[node.lineno - 2] if node.lineno > 1 else ""
            if "#" not in here and not above.strip().startswith("#"):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {here.strip()}")
    assert unexplained == []
