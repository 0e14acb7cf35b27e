"""The import rules that import-linter cannot express (pyproject.toml [tool.importlinter] holds
the layers, the shells' cycles and the ORM boundary; scripts/test.sh runs it):

1. a private module (`_x.py`, `_x/`) is imported only from inside its own package;
2. a private name (`from A import _x`) is imported only from inside A's package, and nothing
   outside `store/` reaches into a store's engine, sessions or private helpers;
3. only `runs/` (and the store itself) creates a run or changes its status or plan;
4. nothing below the shells reads the working folder or loads a config on its own (config is
   passed down; `find_config_file(path)` walks up from a file it is given, and may).

Each rule is checked over src/prompteur with `ast`, lazy imports included, and proved able to
fail on a small tree made for it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers_paths import REPO

SRC = REPO / "src"

# Who may call what (module prefixes, dotted).
LIFECYCLE_CALLS = {"new_run", "set_run_status", "update_run_plan"}
LIFECYCLE_HOME = ("prompteur.runs", "prompteur.store")
STORE_INTERNALS = {"engine", "session", "read", "_with_counts", "_reader", "_sessions"}
WORKING_FOLDER_CALLS = {"load_config", "getcwd", "cwd"}
WORKING_FOLDER_HOME = (
    "prompteur.cli",
    "prompteur.server.projects",
    "prompteur.sdk",
    "prompteur.api._project",
    "prompteur.config",
)

# What is still to move (each entry must still be found: delete it when its fix lands).
ALLOWED: set[tuple[int, str, str]] = {
    (1, "prompteur.cli.craft", "imports private prompteur.image._generate"),
    (1, "prompteur.cli.craft", "imports private prompteur.lint._coach"),
    (1, "prompteur.cli.labels", "imports private prompteur.registry._gate"),
    (1, "prompteur.cli.labels", "imports private prompteur.registry._gate._candidate"),
    (1, "prompteur.cli.labels", "imports private prompteur.registry._render"),
    (1, "prompteur.cli.probe", "imports private prompteur.probes._text"),
    (1, "prompteur.cli.teach", "imports private prompteur.challenge._report"),
    (1, "prompteur.lint._engine", "imports private prompteur.image._spec"),
    (1, "prompteur.lint._image", "imports private prompteur.image._spec"),
    (1, "prompteur.probes.calibrate", "imports private prompteur.checks._judge"),
    (1, "prompteur.probes.engine", "imports private prompteur.checks._judge"),
    (1, "prompteur.probes.ethics", "imports private prompteur.checks._judge"),
    (1, "prompteur.probes.hallucination", "imports private prompteur.checks._judge"),
    (1, "prompteur.probes.notes", "imports private prompteur.checks._judge"),
    (1, "prompteur.traces.alerts", "imports private prompteur.checks._semantic"),
    (1, "prompteur.traces.scoring", "imports private prompteur.registry._suites"),
    (2, "prompteur.cli.monitor", "imports private prompteur.traces.cases._MISSING"),
    (2, "prompteur.lint._doc", "imports private prompteur.prompt._environment"),
    (2, "prompteur.web.auth", "imports private prompteur.server.deps._authenticate"),
    # The importer writes paths as the user will type them, from where the command runs.
    (4, "prompteur.importers.promptfoo._assertions", "calls cwd()"),
    (4, "prompteur.importers.promptfoo._convert", "calls cwd()"),
}


@dataclass(frozen=True)
class Violation:
    rule: int
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.module}:{self.line}: {self.what}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def is_private(segment: str) -> bool:
    return segment.startswith("_") and not segment.startswith("__")


def owner_of_private(target: str) -> str | None:
    """The package inside which the first private segment of `target` may be imported."""
    parts = target.split(".")
    for i, seg in enumerate(parts):
        if is_private(seg):
            return ".".join(parts[:i])
    return None


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def scan(root: Path, top: str = "prompteur") -> list[Violation]:
    found: list[Violation] = []
    for path in sorted((root / top).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = module_name(root, path)
        package = package_of(module, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            targets: list[tuple[str, int]] = []
            if isinstance(node, ast.Import):
                targets = [(a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(node, package)
                targets = [(base, node.lineno)]
                for alias in node.names:
                    if is_private(alias.name):
                        targets.append((f"{base}.{alias.name}", node.lineno))
                    else:
                        # `from . import _x` is caught above; a public name is a module or
                        # an attribute: only its package's own privacy matters.
                        pass
            for target, line in targets:
                if not target.startswith(top):
                    continue
                owner = owner_of_private(target)
                if owner is None:
                    continue
                rule = 1 if _is_module(root, target) else 2
                # A private module: imported only from inside the package that holds it. A
                # private name: only from a module of the defining module's own package.
                allowed = inside(module, owner) if rule == 1 else inside(owner, package)
                if not allowed:
                    found.append(Violation(rule, module, line, f"imports private {target}"))
            if (
                isinstance(node, ast.Attribute)
                and node.attr in STORE_INTERNALS
                and not inside(module, f"{top}.store")
                and _on_store(node)
            ):
                found.append(Violation(2, module, node.lineno, f"uses .{node.attr}"))
            if isinstance(node, ast.Call):
                name = _called(node)
                if name in LIFECYCLE_CALLS and not any(
                    inside(module, home.replace("prompteur", top, 1)) for home in LIFECYCLE_HOME
                ):
                    found.append(Violation(3, module, node.lineno, f"calls {name}()"))
                if name in WORKING_FOLDER_CALLS and not any(
                    inside(module, home.replace("prompteur", top, 1))
                    for home in WORKING_FOLDER_HOME
                ):
                    found.append(Violation(4, module, node.lineno, f"calls {name}()"))
    return found


def _is_module(root: Path, target: str) -> bool:
    parts = target.split(".")
    for i, seg in enumerate(parts):
        if is_private(seg):
            path = root.joinpath(*parts[: i + 1])
            return path.is_dir() or path.with_suffix(".py").is_file()
    return False


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _on_store(node: ast.Attribute) -> bool:
    """`x.engine`, `x.session` where x names a store (`store`, `self.store`, `project.store`)."""
    value = node.value
    text = ast.unparse(value)
    return text == "store" or text.endswith((".store", "_store")) or text == "self._store"


def _findings(root: Path, top: str = "prompteur") -> set[tuple[int, str, str]]:
    return {(v.rule, v.module, v.what) for v in scan(root, top)}


def test_the_import_rules_hold_in_src() -> None:
    found = _findings(SRC)
    new = sorted(found - ALLOWED)
    assert not new, "import rules broken (module: what):\n  " + "\n  ".join(
        f"rule {r}: {m}: {w}" for r, m, w in new
    )
    stale = sorted(ALLOWED - found)
    assert not stale, "fixed, so delete from ALLOWED:\n  " + "\n  ".join(map(str, stale))


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in {p.parent for p in (tmp_path / "pkg").rglob("*.py")}:
        (folder / "__init__.py").touch()
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # 1: a private module from another package; from its own package it is fine
        (
            {
                "a/_impl.py": "",
                "a/ok.py": "from . import _impl\nfrom ._impl import x\n",
                "b/user.py": "from ..a._impl import x\n",
            },
            {(1, "pkg.b.user", "imports private pkg.a._impl")},
        ),
        # 2: a private name from another package
        (
            {"a/mod.py": "_secret = 1\n", "b/user.py": "from ..a.mod import _secret\n"},
            {(2, "pkg.b.user", "imports private pkg.a.mod._secret")},
        ),
        # 2: reaching into a store's engine outside store/
        (
            {
                "store/db.py": "def f(store):\n    return store.engine\n",
                "web/page.py": "def f(store):\n    return store.engine.connect()\n",
            },
            {(2, "pkg.web.page", "uses .engine")},
        ),
        # 3: the lifecycle outside runs/
        (
            {
                "runs/life.py": "def f(s):\n    s.new_run('x', {}, 0)\n",
                "cli/eval.py": "def f(s):\n    s.set_run_status('id', 'done')\n",
            },
            {(3, "pkg.cli.eval", "calls set_run_status()")},
        ),
        # 4: the working folder below the shells
        (
            {
                "cli/main.py": "from ..config import load_config\nload_config()\n",
                "config.py": "def load_config():\n    pass\n",
                "checks/judge.py": "from pathlib import Path\nPath.cwd()\n",
            },
            {(4, "pkg.checks.judge", "calls cwd()")},
        ),
    ],
    ids=["private-module", "private-name", "store-internals", "lifecycle", "working-folder"],
)
def test_each_rule_catches_its_violation(
    tmp_path: Path, files: dict[str, str], expected: set[tuple[int, str, str]]
) -> None:
    root = _tree(tmp_path, files)
    assert _findings(root, "pkg") == expected


def test_the_import_linter_contracts_hold() -> None:
    """The layers, the shells' cycles and the ORM boundary (pyproject.toml), as CI runs them."""
    import subprocess
    import sys

    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
