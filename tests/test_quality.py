"""The quality gates are part of the test suite, so CI holds the code to them: ruff (package,
tests and notebooks), mypy, the layers (import-linter) and dead code (vulture); their settings
are in pyproject.toml."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Dead code found in areas that other changes own, reported to them; tolerated here until it
# is deleted, and then its entry must go too (the last test fails on a stale entry).
_VULTURE_LINE = re.compile(r"^(?P<path>[^:]+):\d+: unused .*?'(?P<name>[^']+)'")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


def test_ruff_is_clean() -> None:
    result = _run("-m", "ruff", "check", "ucwa_nb", "tests", "notebooks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = _run("-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_are_kept() -> None:
    # The contracts in [tool.importlinter] (ARCHITECTURE.md, Invariants): the layers from
    # widgets down to protocol, the simulator apart from the client side but for the
    # doctor's core, record and fidelity apart from both.
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True))")
    result = _run("-c", code)
    assert result.returncode == 0, result.stdout + result.stderr


def _dead_code() -> set[tuple[str, str]]:
    # The tests count as users: much of the public API (fault injection, diagnostics
    # counters) is meant for notebooks and tests, not for the package itself.
    result = _run("-m", "vulture", "ucwa_nb", "tests")
    found = set()
    for line in result.stdout.splitlines():
        match = _VULTURE_LINE.match(line)
        assert match is not None or not line.strip(), line
        if match is not None and match["path"].startswith("ucwa_nb"):
            found.add((Path(match["path"]).as_posix(), match["name"]))
    assert result.returncode in (0, 3), result.stderr  # 3: vulture found dead code
    return found


def test_no_dead_code() -> None:
    dead = _dead_code()
    assert not dead, sorted(dead)


def _imports() -> dict[str, set[str]]:
    """Each module of ucwa_nb -> the modules of ucwa_nb it imports, anywhere in it
    (function-local and TYPE_CHECKING imports count: naming another module's types is
    depending on it)."""
    package = ROOT / "ucwa_nb"
    modules = {".".join(source.relative_to(ROOT).with_suffix("").parts)
               .removesuffix(".__init__"): source for source in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, source in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_module_is_in_an_import_cycle() -> None:
    graph = _imports()
    # A package's __init__ only hands names on: an edge into it is not followed.
    packages = {name for name in graph if (ROOT / Path(*name.split("."))).is_dir()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo += [m for m in graph[current] if m not in packages]
        return False

    cycles = sorted(f"{a} <-> {b}" for a, targets in graph.items() for b in targets
                    if b not in packages and reaches(b, a))
    assert cycles == []


def test_no_class_is_over_300_lines() -> None:
    # A class that long does several jobs: split it (the World became a façade over five
    # parts; the Session hands listing to client/listing.py).
    long = sorted(f"{source.relative_to(ROOT)}: {node.name} ({node.end_lineno - node.lineno + 1})"
                  for source in (ROOT / "ucwa_nb").rglob("*.py")
                  for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
                  if isinstance(node, ast.ClassDef) and node.end_lineno is not None
                  and node.end_lineno - node.lineno + 1 > 300)
    assert long == []


def test_no_merge_conflict_markers() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=False, timeout=60).stdout.split()
    if not tracked:  # not a git checkout (an sdist): the files at hand
        tracked = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                   if p.is_file() and ".venv" not in p.parts]
    marker = re.compile(r"^(<{7}|>{7}) ", re.MULTILINE)
    found = [name for name in tracked if name.endswith((".py", ".md", ".toml", ".ipynb", ".txt"))
             and (ROOT / name).is_file()
             and marker.search((ROOT / name).read_text(encoding="utf-8", errors="replace"))]
    assert found == []
