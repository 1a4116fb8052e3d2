"""The shape of the code: no import cycles in textline/ and workers/, textline/ never imports workers/
(workers/ imports the domain; the domain enqueues by task name, textline/tasks.py), and no project
import hidden inside a function. Each failure names the modules and lines."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("textline", "workers")
# Function-local project imports that are allowed, with why: "module:line" -> reason. None today; a
# reason may never be an import cycle (break the cycle instead).
LOCAL_IMPORTS_ALLOWED: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node, module: str, path: Path) -> set[str]:
    """Project modules an import statement loads: the module itself and the packages above it (Python
    runs each package's __init__ first)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join(up + ([base] if base else []))
        names = [f"{base}.{a.name}" for a in node.names] + [base]
    found = set()
    for name in names:
        target = _resolve(name)
        while target:
            found.add(target)
            target = _resolve(target.rpartition(".")[0]) if "." in target else None
    return found - {module} - {p for p in found if module.startswith(p + ".")}


def _imports():
    """(module, line, target, top_level) for every project import."""
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        top = {id(n) for n in tree.body}
        for stmt in tree.body:  # imports under a top-level `if`/`try` still run at import time
            if isinstance(stmt, (ast.If, ast.Try)):
                top |= {id(n) for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(node, module, path):
                    yield module, node.lineno, target, id(node) in top


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    graph = {m: set() for m in MODULES}
    where = {}
    for module, line, target, _ in _imports():
        graph[module].add(target)
        where.setdefault((module, target), line)
    problems = []
    for cycle in _cycles(graph):
        members = set(cycle)
        edges = [f"{a}:{where[(a, b)]} imports {b}" for a in cycle for b in sorted(graph[a] & members)]
        problems.append("cycle between " + ", ".join(cycle) + "\n    " + "\n    ".join(edges))
    assert not problems, "import cycles:\n" + "\n".join(problems)


def test_textline_never_imports_workers():
    wrong = sorted(f"{module}:{line} imports {target}" for module, line, target, _ in _imports()
                   if module.split(".")[0] == "textline" and target.split(".")[0] == "workers")
    assert not wrong, ("textline/ must not import workers/ (enqueue by task name, textline/tasks.py):\n"
                       + "\n".join(wrong))


def test_no_function_local_project_imports():
    hidden = sorted({f"{module}:{line}" for module, line, _, top in _imports() if not top}
                    - set(LOCAL_IMPORTS_ALLOWED))
    assert not hidden, ("project imports inside functions (move them to the top of the module, or list them in "
                        "LOCAL_IMPORTS_ALLOWED with a reason that is not a cycle):\n" + "\n".join(hidden))


def test_the_checker_sees_a_cycle_and_names_it():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
