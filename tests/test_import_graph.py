"""The package import graph: no module imports itself back through others, and every
package imports only packages of a lower layer (nothing imports upward). Read from the
source with ``ast`` (imports inside functions and ``TYPE_CHECKING`` blocks count too: a
cycle hidden in a function is still a cycle in the design)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "snellen"

# Lowest first. A package may import its own modules and packages of lower layers only.
# docs/architecture.md draws the same picture.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("", "errors"),  # the package root (its version; the API names modules as strings)
    ("registry", "records", "imaging", "ranking", "transcripts", "data"),  # the shared base
    # runs (records, artifacts, the reply cache); the drawing languages, one record each
    ("store", "languages"),
    ("concepts", "render", "llm"),  # parts: what to draw, rendering, chat models
    ("training",),  # the training layer: one schedule, resumable training state
    ("clip",),  # snellen's own CLIP (trains on rendered shapes)
    ("datasets",),  # every dataset the tasks read or generate, as typed kinds
    ("score",),  # image-text scorers (one is snellen's CLIP)
    ("metrics",),  # metrics, and the scoring step of a run
    ("report",),  # formats what the scoring step wrote
    # the tasks: the check-up (concepts -> draw -> render -> score -> report), the CLIP
    # evaluation suite (and NegCLIP fine-tuning), LENS
    ("checkup", "evaluate", "lens"),
    ("imagesets",),  # image datasets drawn by programs (check-up runs, parametric variants)
    ("pretrain",),  # MoCo-v2 on image datasets
    ("probe",),  # linear and kNN probes of a pre-trained backbone
    ("reproduce",),  # each paper's finding as one command, over the tasks and studies
    ("cli",),  # wiring: each subcommand calls the API
    ("__main__",),
)
LAYER = {pkg: i for i, group in enumerate(LAYERS) for pkg in group}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "snellen"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "snellen":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    return {t for t in found if t in modules and t != name}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_every_package_has_a_layer() -> None:
    missing = sorted({_package(m) for m in _graph()} - set(LAYER))
    assert not missing, f"add {missing} to LAYERS (and to docs/architecture.md)"


def test_nothing_imports_upward() -> None:
    upward = sorted(
        f"{src} imports {dst}"
        for src, targets in _graph().items()
        for dst in targets
        if _package(src) != _package(dst) and LAYER[_package(dst)] >= LAYER[_package(src)]
    )
    assert not upward, "\n".join(upward)


def test_no_import_cycles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks can fail: a made-up pair of modules importing each other is found."""
    pkg = tmp_path / "snellen" / "store"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from snellen.store import b\nfrom snellen.report import x\n")
    (pkg / "b.py").write_text("def f():\n    from snellen.store.a import g\n")
    modules = {"snellen.store": pkg / "__init__.py", "snellen.store.a": pkg / "a.py",
               "snellen.store.b": pkg / "b.py", "snellen.report.x": pkg / "__init__.py"}  # fmt: skip
    assert _imports("snellen.store.a", pkg / "a.py", modules) == {
        "snellen.store.b", "snellen.report.x"
    }  # fmt: skip
    assert _imports("snellen.store.b", pkg / "b.py", modules) == {"snellen.store.a"}
    assert LAYER["report"] > LAYER["store"]
