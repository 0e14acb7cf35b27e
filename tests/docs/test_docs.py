"""Every `sh` and `python` block in docs/ runs, in order, in a fresh `prompteur init` project."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_paths import REPO

DOCS = REPO / "docs"
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)


def blocks(doc: Path) -> list[tuple[str, str]]:
    return BLOCK.findall(doc.read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_doc_examples_run(doc: Path, project: Path) -> None:
    found = blocks(doc)
    if not found:
        pytest.skip(f"{doc.name} has no runnable block")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for i, (lang, code) in enumerate(found, 1):
        cmd = (
            ["bash", "-euo", "pipefail", "-c", code]
            if lang == "sh"
            else [sys.executable, "-c", code]
        )
        proc = subprocess.run(
            cmd, cwd=project, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, (
            f"{doc.name} block {i} ({lang}) failed:\n{code}\n--- stdout\n{proc.stdout}"
            f"\n--- stderr\n{proc.stderr}"
        )
        assert "Traceback" not in proc.stderr, f"{doc.name} block {i}:\n{proc.stderr}"
