"""One installed name and one-way layers: `pip install litassist` adds only `litassist` to site-packages, and the
layers index <- assistant <- app import one way, with no import circle."""

from __future__ import annotations

import ast
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"index": 0, "assistant": 1, "app": 2, "library_ui": 2, "__init__": 2}


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name under `litassist`."""
    found = {"litassist": ROOT / "__init__.py", "litassist.app": ROOT / "app.py",
             "litassist.library_ui": ROOT / "library_ui.py"}
    for folder in ("index", "assistant", "prompts"):
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(("litassist", *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of a module except those under `if TYPE_CHECKING:` (type-only imports never run)."""
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for child in node.body for n in ast.walk(child)}
    return [n for n in ast.walk(tree) if id(n) not in skipped]


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The litassist modules a file imports when it runs, wherever in the file (lazy imports count too); `from pkg
    import submodule` counts as the submodule."""
    names = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("litassist"):
            subs = {f"{node.module}.{alias.name}" for alias in node.names} & known.keys()
            names.update(subs or {node.module})
            if len(subs) < len(node.names):
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("litassist"))
    return names


def layer(module: str) -> int:
    """0 for index, 1 for assistant, 2 for the UI and the top package."""
    parts = module.split(".")
    return LAYERS.get(parts[1] if len(parts) > 1 else "__init__", 2)


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    known = modules()
    return {name: {m for m in imports(path, known) if m in known and m != name} for name, path in known.items()}


def test_no_module_imports_from_a_higher_layer() -> None:
    upward = sorted(f"{a} imports {b}" for a, deps in graph().items() for b in deps if layer(b) > layer(a))
    assert upward == []


def test_no_import_circle() -> None:
    edges = graph()
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt in path:
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, path + [nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(edges):
        if start not in done:
            visit(start, [start])
    assert circles == []


@pytest.mark.skipif(shutil.which("uv") is None, reason="builds the wheel with uv (the README's setup installs it)")
def test_the_wheel_installs_one_top_level_name_and_the_command(tmp_path: Path) -> None:
    build = subprocess.run(["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("litassist-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"litassist", f"{wheel.name.split('-py')[0]}.dist-info"}
    for shipped in ("litassist/app.py", "litassist/prompts/answer.md", "litassist/assistant/data/gene_aliases.tsv",
                    "litassist/index/loaders/pfocr.py"):
        assert shipped in names
    entry = zipfile.ZipFile(wheel).read(f"{wheel.name.split('-py')[0]}.dist-info/entry_points.txt").decode()
    assert "litassist = litassist:main" in entry



def test_data_and_modules_are_looked_up_by_the_installed_name() -> None:
    """`resources.files(...)` / `import_module(...)` with a bare top-level name works only from a checkout."""
    bare = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
                    ("files", "import_module") and node.args and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).split(".")[0] in LAYERS | {"prompts": 0}):
                bare.append(f"{name}: {ast.unparse(node)}")
    assert bare == []
