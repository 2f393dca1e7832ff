"""The package's architecture (docs/architecture.md), checked on the source: layers, no import circle,
no function-level import of custseg modules, heavy libraries only where a command needs them."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "custseg"
HEAVY = ("sklearn", "scipy", "ibis", "duckdb", "pyspark", "plotly", "simple_salesforce", "pandas", "numpy", "pyarrow")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, bool]]:
    """(imported module, at function level?) for every import statement of `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _absolute(child, module, path.name == "__init__.py")
                found.append((target, in_function))
                found.extend((f"{target}.{a.name}", in_function) for a in child.names if f"{target}.{a.name}" in MODULES)
            visit(child, nested)

    visit(tree, False)
    return found


GRAPH = {m: sorted({t for t, nested in _imports(m) if not nested and t in MODULES and t != m}) for m in MODULES}


def _reach(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for target in GRAPH[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _third_party(modules: set[str]) -> set[str]:
    return {t.split(".")[0] for m in modules for t, _ in _imports(m) if not t.startswith("custseg")}


def _layer(prefix: str) -> list[str]:
    return [m for m in MODULES if m == prefix or m.startswith(prefix + ".")]


def test_no_function_level_import_of_a_custseg_module():
    nested = [(m, t) for m in MODULES for t, inside in _imports(m) if inside and t.startswith("custseg")]
    assert nested == []


def test_no_import_circle():
    state: dict[str, int] = {}
    circles = []

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in GRAPH[module]:
            if state.get(target) == 1:
                circles.append(path[path.index(target):] + [target])
            elif target not in state:
                walk(target, path + [target])
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            walk(module, [module])
    assert circles == []


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("custseg._config", {"custseg._engines", "custseg._prep", "custseg._cluster", "custseg._workflows", "custseg._report",
                         "custseg._outputs", "custseg._salesforce", "custseg.cli", "custseg._cli"}),
    ("custseg._engines", {"custseg._prep", "custseg._cluster", "custseg._workflows", "custseg._report", "custseg._outputs"}),
    ("custseg._prep", {"custseg._cluster", "custseg._profile", "custseg._workflows", "custseg._report", "custseg._outputs"}),
    ("custseg._cluster", {"custseg._engines", "custseg._prep", "custseg._profile", "custseg._workflows", "custseg._report",
                          "custseg._outputs"}),
    ("custseg._profile", {"custseg._engines", "custseg._cluster", "custseg._workflows", "custseg._report", "custseg._outputs",
                          "custseg._salesforce", "custseg.cli", "custseg._cli"}),
    ("custseg._outputs", {"custseg._workflows"}),
    ("custseg._report", {"custseg._workflows", "custseg._outputs"}),
    ("custseg._salesforce", {"custseg._workflows", "custseg._outputs", "custseg._report"}),
    ("custseg._review", {"custseg._engines", "custseg._prep", "custseg._cluster", "custseg._profile", "custseg._workflows",
                         "custseg._report", "custseg._outputs", "custseg._salesforce", "custseg.cli", "custseg._cli"}),
])
def test_layers_only_import_downwards(layer, forbidden):
    reached = {t for m in _layer(layer) for t in _reach(m)}
    assert sorted(t for t in reached if any(t == f or t.startswith(f + ".") for f in forbidden)) == []


@pytest.mark.parametrize(("layer", "libraries"), [
    ("custseg._prep", {"sklearn", "scipy"}),
    ("custseg._cluster", {"ibis", "duckdb"}),
    ("custseg._config", set(HEAVY)),
])
def test_layers_do_not_reach_libraries_of_other_stages(layer, libraries):
    reached = set(_layer(layer)) | {t for m in _layer(layer) for t in _reach(m)}
    assert _third_party(reached) & libraries == set()


def test_no_stage_module_floats_at_the_package_root():
    """The pipeline's stages live in their folders; the root holds only the shared modules."""
    shared = {"custseg", "custseg.cli", "custseg.__main__", "custseg._atomic", "custseg._errors", "custseg._i18n", "custseg._lazy",
              "custseg._locks", "custseg._outputs", "custseg._result", "custseg._schema"}
    assert sorted(m for m in MODULES if m.count(".") == 1 and not (PACKAGE / m.split(".")[1]).is_dir()) == sorted(shared - {"custseg"})


def test_only_the_engines_import_duckdb_or_pyspark():
    users = {m for m in MODULES for t, _ in _imports(m) if t.split(".")[0] in ("duckdb", "pyspark")}
    allowed = set(_layer("custseg._engines")) | {"custseg._cluster._spark_kmeans"}  # Spark ML's K-means
    assert users - allowed == set()


def test_only_the_command_line_imports_typer_or_rich():
    users = {m for m in MODULES for t, _ in _imports(m) if t.split(".")[0] in ("typer", "rich")}
    assert users - ({"custseg.cli"} | set(_layer("custseg._cli"))) == set()


def test_the_command_line_starts_without_heavy_libraries():
    code = ("import sys, custseg.cli; "
            f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_the_public_api_resolves():
    import custseg

    for name in custseg.__all__:
        assert getattr(custseg, name) is not None, name
