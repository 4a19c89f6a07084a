"""The layout's rules, read from the source: dependencies point one way (core <- feeds <-
timeline <- inference <- registry, core <- feeds <- history <- registry, timeline <- notify;
inference and history do not import each other, timeline knows nothing of inference or notify,
inference knows nothing of the registry, which plugs into it), no module imports itself back
through others, and only the model package imports pytorch-forecasting or Lightning (and it
imports no Django)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "feeds", "inference", "history", "timeline", "dashboard", "notify", "registry", "argus_project")
ALLOWED = {"core": set(), "feeds": {"core"}, "inference": {"core", "feeds", "timeline"}, "history": {"core", "feeds"},
           "timeline": {"core", "feeds"}, "dashboard": {"core", "feeds", "inference", "history", "timeline"},
           "notify": {"core", "feeds", "timeline"}, "registry": {"core", "feeds", "inference", "history"},
           "argus_project": {"core", "feeds", "inference", "history", "timeline", "dashboard", "notify", "registry"}}


def modules():
    out = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name, path):
    """Every module name imported anywhere in the file (also inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(head + ([node.module] if node.module else []))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


MODULES = modules()
GRAPH = {name: {m for m in imports(name, path) if m in MODULES and m != name}
         for name, path in MODULES.items()}


def test_apps_depend_only_on_the_apps_below_them():
    assert {"core.redis", "feeds.records"} <= GRAPH["feeds.windows"]  # relative and absolute imports are seen
    wrong = [(a, b) for a, deps in GRAPH.items() for b in deps
             if a.split(".")[0] != b.split(".")[0] and b.split(".")[0] not in ALLOWED[a.split(".")[0]]]
    assert wrong == []


def test_no_module_imports_itself_back():
    def reaches(start, goal, seen):
        for nxt in GRAPH[start] - seen:
            if nxt == goal or reaches(nxt, goal, seen | {nxt}):
                return True
        return False

    assert [m for m in GRAPH if reaches(m, m, set())] == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_model_package_imports_pytorch_forecasting_and_it_imports_no_django(name):
    found = {m.split(".")[0] for m in imports(name, MODULES[name])}
    if name.startswith("inference.model"):
        assert "django" not in found
    else:
        assert not found & {"pytorch_forecasting", "lightning"}
