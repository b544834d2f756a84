"""The packages import only downwards (docs/architecture.md): every import in archspec/, at the top of a
module or inside a function, is read from the source (ast, nothing imported), with no exemptions. And no
module is over MAX_LINES: a long module does several jobs."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "archspec"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "moved"),
    ("catalogue",),
    ("plugin",),
    ("spec",),
    ("graph",),
    ("keras", "draw"),
    ("train",),
    ("cli", "notebook"),
)
"""Bottom to top. A module may import its own package and the layers below; not a sibling (keras and draw
know nothing of each other), not a layer above. `archspec/__init__.py`, the facade, stands above them all."""

MAX_LINES = 330


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[tuple[str, ...], int]]:
    """Every archspec import in `source`, anywhere (function bodies and TYPE_CHECKING included), with its line,
    as the names it may mean, likeliest first: `import a.b` means a.b; `from a import b` means the module
    a.b if there is one, else a (b is a name in it). Relative imports are resolved."""
    found: list[tuple[tuple[str, ...], int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [((alias.name,), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                target = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
            found += [((f"{target}.{alias.name}", target), node.lineno) for alias in node.names]
    return [(names, line) for names, line in found if names[-1].partition(".")[0] == "archspec"]


def layer_of(module: str) -> int | None:
    """The layer of `archspec.<top>...`; None for the facade `archspec` itself."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    for index, names in enumerate(LAYERS):
        if parts[1] in names:
            return index
    raise AssertionError(f"{module}: its package '{parts[1]}' is in no layer; add it to LAYERS in {__file__}")


def import_graph(root: Path) -> nx.DiGraph:
    """archspec's modules and their imports (an edge per import that names an existing module)."""
    sources = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph = nx.DiGraph()
    for module, path in sources.items():
        graph.add_node(module)
        for names, line in imported_modules(path.read_text(), module, path.name == "__init__.py"):
            name = next((name for name in names if name in sources), None)
            if name is not None and name != module:
                graph.add_edge(module, name, line=line, file=str(path.relative_to(root.parent)))
    return graph


def layering_violations(graph: nx.DiGraph) -> list[str]:
    """Each import that goes up or sideways, as 'file:line: a imports b (layer x above y)'."""
    problems = []
    for module in graph.nodes:
        layer_of(module)
    for source, target, data in graph.edges(data=True):
        here, there = layer_of(source), layer_of(target)
        if here is None or source.split(".")[1] == target.split(".")[1]:
            continue
        if there is None or there >= here:
            problems.append(f"{data['file']}:{data['line']}: {source} imports {target}, which is "
                            f"{'the facade' if there is None else 'a sibling' if there == here else 'above it'}")
    return sorted(problems)


def test_every_import_goes_down_a_layer():
    assert layering_violations(import_graph(PACKAGE)) == []


def test_no_module_imports_itself_back():
    graph = import_graph(PACKAGE)
    cycles = [" -> ".join(cycle) for cycle in nx.simple_cycles(graph)]
    assert cycles == []


def test_no_module_is_over_the_line_limit():
    long = {str(path.relative_to(PACKAGE.parent)): lines for path in sorted(PACKAGE.rglob("*.py"))
            if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


@pytest.fixture
def fake_package(tmp_path):
    """A synthetic archspec/ with one module per layer, each importing the layer below."""
    root = tmp_path / "archspec"
    for folder, text in {
        "errors.py": "",
        "moved.py": "",
        "catalogue/ops.py": "from archspec.errors import SpecError\nfrom archspec import moved\n",
        "spec/models.py": "from archspec.catalogue.ops import OPS\n",
        "graph/build.py": "from archspec.spec import models\n",
        "keras/compiler.py": "import archspec.graph.build\n",
        "draw/diagram.py": "from ..graph import build\n",
        "train/runner.py": "from archspec.keras.compiler import compile_model\n",
        "cli/app.py": "from archspec.train.runner import fit\nfrom archspec.draw.diagram import render\n",
    }.items():
        (root / folder).parent.mkdir(parents=True, exist_ok=True)
        (root / folder).write_text(text)
    return root


def test_the_check_passes_a_package_that_imports_downwards(fake_package):
    graph = import_graph(fake_package)
    assert ("archspec.draw.diagram", "archspec.graph.build") in graph.edges  # a relative import, resolved
    assert ("archspec.catalogue.ops", "archspec.moved") in graph.edges  # `from archspec import moved`: the module
    assert layering_violations(graph) == []


@pytest.mark.parametrize(("module", "line", "problem"), [
    ("spec/models.py", "def show(spec):\n    from archspec.draw.diagram import render\n",
     "archspec/spec/models.py:3: archspec.spec.models imports archspec.draw.diagram, which is above it"),
    ("keras/compiler.py", "from archspec.train import runner\n",
     "archspec/keras/compiler.py:2: archspec.keras.compiler imports archspec.train.runner, which is above it"),
    ("draw/diagram.py", "if True:\n    import archspec.keras.compiler\n",
     "archspec/draw/diagram.py:3: archspec.draw.diagram imports archspec.keras.compiler, which is a sibling"),
    ("catalogue/ops.py", "from ..spec.models import Spec\n",
     "archspec/catalogue/ops.py:3: archspec.catalogue.ops imports archspec.spec.models, which is above it"),
])
def test_the_check_fails_on_an_upward_or_sideways_import(fake_package, module, line, problem):
    path = fake_package / module
    path.write_text(path.read_text() + line)
    assert layering_violations(import_graph(fake_package)) == [problem]


def test_the_check_finds_a_cycle(fake_package):
    (fake_package / "spec" / "other.py").write_text("from archspec.spec.models import Spec\n")
    path = fake_package / "spec" / "models.py"
    path.write_text(path.read_text() + "def later():\n    from archspec.spec import other\n")
    assert list(nx.simple_cycles(import_graph(fake_package))) != []


def test_a_package_in_no_layer_is_named(fake_package):
    (fake_package / "extras.py").write_text("")
    with pytest.raises(AssertionError, match="'extras' is in no layer"):
        layering_violations(import_graph(fake_package))
