"""The layer rule of DESIGN.md, checked on the source: who may import whom inside skelact.

Every `import` and `from ... import` in src/skelact counts, including the lazy ones inside functions:
a lazy import still ties the two packages together. A package may import level 0, its own package and
packages of a lower level; siblings on one level stay apart.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "skelact"

# Lowest first. Level 0 holds the modules every layer may use: errors, the atomic file writer and the
# top-level package itself (for __version__).
LEVELS: dict[str, int] = {
    "skelact": 0,
    "skelact.errors": 0,
    "skelact.atomic": 0,
    "skelact.skeleton": 1,
    "skelact.data": 2,
    "skelact.models": 3,
    "skelact.losses": 3,
    "skelact.evaluation": 3,
    "skelact.inference": 4,
    "skelact.viz": 4,
    "skelact.methods": 5,
    "skelact.video": 5,
    "skelact.cli": 6,
}

# Stricter than the levels: what a package never imports, not even lazily. Deployment stays light, and
# backbones are plain nn.Modules usable without the data pipeline (their input features live in
# skelact.models.inputs).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "skelact.inference": ("lightning", "pytorch_lightning", "matplotlib", "skelact.methods"),
    "skelact.models": ("skelact.data",),
}

# Known violations awaiting a fix, as (module, imported) pairs; none today. An entry that no longer occurs
# fails the test, so the list cannot go stale.
PENDING_EXCEPTIONS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _imports(module: str, path: Path, *, module_level_only: bool = False) -> set[str]:
    """Fully qualified names this module imports (modules, or `module.name` for `from m import name`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    if module_level_only:
        nodes = [n for stmt in tree.body for n in _module_level_nodes(stmt)]
    else:
        nodes = _runtime_nodes(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (
                _resolve_relative(module, is_package, node.level, node.module) if node.level else node.module
            )
            assert base is not None
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def _runtime_nodes(node: ast.AST) -> list[ast.AST]:
    """Every node that can run, lazily or not: all of the tree except `if TYPE_CHECKING:` blocks, whose
    imports exist for annotations only (with `from __future__ import annotations`) and never execute."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        return [n for child in node.orelse for n in _runtime_nodes(child)]
    return [node, *(n for child in ast.iter_child_nodes(node) for n in _runtime_nodes(child))]


def _module_level_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """Import statements run at import time: top level, and inside top-level if/try blocks."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [stmt]
    if isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
        return []
    if isinstance(stmt, (ast.If, ast.Try)):
        children = [*stmt.body, *stmt.orelse]
        if isinstance(stmt, ast.Try):
            children += [*stmt.finalbody, *(s for handler in stmt.handlers for s in handler.body)]
        return [n for child in children for n in _module_level_nodes(child)]
    return []


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _known_module(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is a skelact module (drops a trailing imported attribute)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _layer(module: str) -> str:
    """The entry of LEVELS a module belongs to."""
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        candidate = ".".join(parts[:size])
        if candidate in LEVELS:
            return candidate
    raise AssertionError(f"{module} belongs to no layer; add its package to LEVELS")


def _allowed(importer: str, imported: str) -> bool:
    source, target = _layer(importer), _layer(imported)
    return source == target or LEVELS[target] == 0 or LEVELS[target] < LEVELS[source]


def test_every_package_has_a_level():
    for module in _modules():
        _layer(module)


def test_imports_point_down_the_layers():
    modules = _modules()
    offending = set()
    for module, path in modules.items():
        for name in _imports(module, path):
            imported = _known_module(name, modules) if name.startswith(PACKAGE) else None
            if imported is not None and not _allowed(module, imported):
                offending.add((module, imported))
    unexpected = sorted(offending - PENDING_EXCEPTIONS)
    assert not unexpected, "imports against the layer rule (importer -> imported):\n" + "\n".join(
        f"  {a} -> {b}" for a, b in unexpected
    )
    stale = PENDING_EXCEPTIONS - offending
    assert not stale, f"PENDING_EXCEPTIONS lists imports that are gone; remove them: {sorted(stale)}"


def test_forbidden_imports():
    modules = _modules()
    offending = set()
    for module, path in modules.items():
        forbidden = FORBIDDEN.get(_layer(module), ())
        for name in sorted(_imports(module, path)):
            root = _known_module(name, modules) or name
            hit = any(root == f or root.startswith(f + ".") for f in forbidden)
            if hit and (module, root) not in PENDING_EXCEPTIONS:
                offending.add(f"  {module} -> {root}")
    assert not offending, "imports that FORBIDDEN rules out:\n" + "\n".join(sorted(offending))


def _import_graph(*, module_level_only: bool) -> dict[str, set[str]]:
    """Module -> skelact modules it imports. A package's __init__ re-exporting its own submodules is left
    out: that is how a package presents itself, not a loop between modules."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imports(module, path, module_level_only=module_level_only):
            if not name.startswith(PACKAGE):
                continue
            target = _known_module(name, modules)
            if target is None or target == module:
                continue
            if path.name == "__init__.py" and target.startswith(module + "."):
                continue
            targets.add(target)
        graph[module] = targets
    return graph


def _package_graph() -> dict[str, set[str]]:
    """The same between (sub)packages (skelact.data.formats, skelact.viz, ...), lazy imports included,
    without the PENDING_EXCEPTIONS; a package importing its own subpackages or its parent is not counted."""
    modules = _modules()

    def package(module: str) -> str:
        return module if modules[module].name == "__init__.py" else module.rpartition(".")[0]

    graph: dict[str, set[str]] = {}
    for module, targets in _import_graph(module_level_only=False).items():
        for target in targets:
            if (module, target) in PENDING_EXCEPTIONS:
                continue
            a, b = package(module), package(target)
            if a != b and not b.startswith(a + ".") and not a.startswith(b + "."):
                graph.setdefault(a, set()).add(b)
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycles_between_modules():
    cycle = _find_cycle(_import_graph(module_level_only=True))
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle)


def test_no_cycles_through_lazy_imports():
    """A lazy import that closes a loop hides the cycle from the interpreter, not from the design."""
    cycle = _find_cycle(_import_graph(module_level_only=False))
    assert cycle is None, "import cycle (lazy imports included): " + " -> ".join(cycle)


def test_no_cycles_between_packages():
    cycle = _find_cycle(_package_graph())
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle)


def test_cycle_finder_reports_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_importing_inference_loads_no_training_or_plotting():
    code = (
        "import sys\n"
        "import skelact.inference.predictor, skelact.inference.export, skelact.inference.inputs\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'lightning', 'pytorch_lightning', "
        "'matplotlib'} or m == 'skelact.methods' or m.startswith('skelact.methods.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env()
    )
    assert result.stdout.strip() == "[]", f"loaded by importing skelact.inference: {result.stdout.strip()}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    return env
