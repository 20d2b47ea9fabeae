"""The package's layering, read from the source with `ast` (nothing is imported).

Each unit of `kerasrnn` has a level; a module may import its own level and
lower ones only. There are no import cycles, and no `kerasrnn` import inside
a function, where it would hide a cycle or an upward import, except the few
in `DEFERRED`, each a downward import made late on purpose.
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "kerasrnn"

# Level of each unit: the first name after `kerasrnn.` (a module or a
# subpackage); "" is the package's own __init__, the public API.
LEVELS = {
    "fileio": 0,
    "errors": 0,
    "metrics": 0,
    "plots": 0,
    "decoding": 0,
    "layers": 1,
    "data": 2,
    "config": 3,
    "builders": 4,
    "runs": 5,
    "training": 6,
    "export": 6,
    "diagnostics": 6,
    "ensembles": 6,
    "api": 7,
    "": 7,
    "cli": 8,
}


# Imports a module makes inside a function on purpose, by importer. The
# command line starts TensorFlow only in the commands that need it, so --help,
# --version, validate and completion answer at once (tests/test_console.py);
# the package gives the command line `fit`, `load` and `Model` on first use.
DEFERRED = {
    "kerasrnn.cli": {"kerasrnn.training", "kerasrnn.runs", "kerasrnn.data.inspect", "kerasrnn.diagnostics"},
    "kerasrnn": {"kerasrnn.api"},
}


def read_modules(root=PACKAGE):
    """Module name -> (path from the repository root, parsed tree), for every module in `root`."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        shown = path.relative_to(root.parent)
        parts = list(shown.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = (shown, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return modules


def unit(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(module, path, tree, modules):
    """(target module, line, inside a function) for each `kerasrnn` import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: `from . import x`, `from ..data import y`
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - child.level + 1] + ([base] if base else []))
                # `from a import b` reaches the submodule a.b when there is one.
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in child.names]
            else:
                visit(child, nested)
                continue
            for name in dict.fromkeys(names):
                if name == "kerasrnn" or name.startswith("kerasrnn."):
                    target = name
                    while target not in modules and "." in target:
                        target = target.rpartition(".")[0]
                    found.append((target, child.lineno, in_function))

    visit(tree, False)
    return found


def graph(modules):
    """Module -> {imported module: line}, counting the packages an import runs.

    Importing `kerasrnn.builders.base` from outside `kerasrnn.builders` also
    runs `kerasrnn/builders/__init__.py`, so that is an edge too; the root
    package is left out, as Python has always started it first.
    """
    edges = {}
    for module, (path, tree) in modules.items():
        out = edges.setdefault(module, {})
        for target, line, _ in imports(module, path, tree, modules):
            parts = target.split(".")
            for depth in range(2, len(parts) + 1):
                reached = ".".join(parts[:depth])
                inside = module == reached or module.startswith(reached + ".")
                if reached in modules and (reached == target or not inside):
                    out.setdefault(reached, line)
    return edges


def find_cycle(edges):
    """A list of modules [a, b, ..., a] that import each other in a ring, or None."""
    state = {}
    stack = []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[module] = "done"
        stack.pop()
        return None

    for module in sorted(edges):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def upward_imports(modules):
    """`path:line: ...` for each import of a higher level than the importer's."""
    problems = []
    for module, (path, tree) in modules.items():
        level = LEVELS.get(unit(module))
        for target, line, _ in imports(module, path, tree, modules):
            above = LEVELS.get(unit(target))
            if level is not None and above is not None and above > level:
                problems.append(
                    f"{path}:{line}: {unit(module) or 'kerasrnn'} (level {level}) imports {target} (level {above})"
                )
    return problems


def hidden_imports(modules, deferred=DEFERRED):
    """`path:line: ...` for each `kerasrnn` import inside a function, but those `deferred` allows."""
    return [
        f"{path}:{line}: imports {target} inside a function"
        for module, (path, tree) in modules.items()
        for target, line, in_function in imports(module, path, tree, modules)
        if in_function and target not in deferred.get(module, ())
    ]


def cycle_report(modules):
    """The lines of one import cycle, each `path:line: a imports b`; empty if none."""
    edges = graph(modules)
    cycle = find_cycle(edges) or []
    return [f"{modules[a][0]}:{edges[a][b]}: {a} imports {b}" for a, b in zip(cycle, cycle[1:])]


def test_every_unit_has_a_level():
    unknown = sorted({unit(m) for m in read_modules()} - set(LEVELS))
    assert not unknown, f"give these a level in LEVELS of tests/test_imports.py: {unknown}"


def test_no_module_imports_a_higher_level():
    problems = upward_imports(read_modules())
    assert not problems, "\n".join(problems)


def test_no_import_cycles():
    cycle = cycle_report(read_modules())
    assert not cycle, "import cycle:\n" + "\n".join(cycle)


def test_no_package_import_inside_a_function():
    problems = hidden_imports(read_modules())
    assert not problems, "\n".join(problems)


def test_the_checks_see_what_they_should(tmp_path):
    """Upward, cyclic and hidden imports are found in a made-up package, and nothing else."""
    source = {
        "kerasrnn/__init__.py": "",
        "kerasrnn/layers/__init__.py": "from .a import A\n",
        "kerasrnn/layers/a.py": "from kerasrnn import config\n\nA = 1\n",
        "kerasrnn/config.py": "import os\n\n\ndef f():\n    from kerasrnn.layers import a\n    import numpy\n",
    }
    for name, text in source.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    modules = read_modules(tmp_path / "kerasrnn")
    assert upward_imports(modules) == [
        "kerasrnn/layers/a.py:1: layers (level 1) imports kerasrnn.config (level 3)"
    ]
    assert hidden_imports(modules) == ["kerasrnn/config.py:5: imports kerasrnn.layers.a inside a function"]
    assert hidden_imports(modules, {"kerasrnn.config": {"kerasrnn.layers.a"}}) == []
    assert cycle_report(modules) == [
        "kerasrnn/config.py:5: kerasrnn.config imports kerasrnn.layers",
        "kerasrnn/layers/__init__.py:1: kerasrnn.layers imports kerasrnn.layers.a",
        "kerasrnn/layers/a.py:1: kerasrnn.layers.a imports kerasrnn.config",
    ]
