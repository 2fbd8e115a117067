"""The shape of the code: imports at the top, no circles between our modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "intake"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))
           if "migrations" not in path.parts}


def imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """Our modules an import statement names (``from intake import x`` names intake.x)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in MODULES]
    base = node.module or ""
    if node.level:  # a relative import, from the module's package
        package = module.split(".")[: -node.level or None]
        base = ".".join([*package, base] if base else package)
    names = []
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            names.append(f"{base}.{alias.name}")
        elif base in MODULES:
            names.append(base)
    return names


def imports_of(module: str) -> tuple[set[str], list[str]]:
    """The modules ``module`` imports at its top, and where it imports inside a body."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            top.update(imported(node, module))
    nested = [
        f"{module}:{node.lineno}"
        for outer in tree.body if not isinstance(outer, (ast.Import, ast.ImportFrom))
        for node in ast.walk(outer) if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    return top, nested


GRAPH = {module: imports_of(module)[0] - {module} for module in MODULES}


def test_every_import_is_at_the_top_of_its_module():
    nested = [where for module in MODULES for where in imports_of(module)[1]]
    assert nested == []


def test_our_modules_import_each_other_without_a_circle():
    def circle_from(start: str, path: list[str], done: set[str]) -> list[str] | None:
        for following in sorted(GRAPH[start]):
            if following in path:
                return [*path[path.index(following):], following]
            if following not in done:
                found = circle_from(following, [*path, following], done)
                if found:
                    return found
        done.add(start)
        return None

    done: set[str] = set()
    circles = [circle for module in MODULES
               if (circle := circle_from(module, [module], done))]
    assert circles == []


def test_the_graph_is_read_from_real_imports():
    """The checks above would pass on an empty graph: these edges must be found."""
    assert "intake.questionnaire.model" in GRAPH["intake.questionnaire.content"]
    assert "intake.clinic" in GRAPH["intake.patient"]
    assert "intake.staff.access" in GRAPH["intake.staff.work"]


#: A module past this many lines owns too much to read in one sitting (STYLE.md).
MODULE_LINES = 500
#: The clinician's file: steps and words only, as long as the questionnaire is.
CONTENT = {"intake.questionnaire.content"}


def test_no_module_is_too_long_to_read():
    lengths = {module: len(path.read_text(encoding="utf-8").splitlines())
               for module, path in MODULES.items() if module not in CONTENT}
    assert {m: n for m, n in lengths.items() if n > MODULE_LINES} == {}
    assert max(lengths.values()) > MODULE_LINES / 2  # the lines are really counted
