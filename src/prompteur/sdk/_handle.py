"""What `get_prompt` and `complete` give back: a prompt version and a gateway answer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..prompt import Prompt

# Where a handle came from, so a caller (and its logs) can tell a live answer from a fallback.
SOURCES = ("server", "store", "cache", "stale", "last-good", "library", "snapshot")


@dataclass(frozen=True)
class PromptHandle:
    """One version of a prompt, as served. Immutable: a refresh makes a new handle.

    `labels` are the labels that point at this version (when it was fetched); `label` is the
    one asked for (None when a version was asked for). `source` says who served it. `model`
    (asked with `get_prompt(..., model=)`) picks the prompt's variant for that model:
    `prompt`, `render` and `variant` follow it.
    """

    name: str
    version: str
    content: str
    labels: tuple[str, ...] = ()
    label: str | None = None
    source: str = "server"
    _parsed: list[Prompt] = field(default_factory=list, repr=False, compare=False)
    model: str | None = None

    @property
    def short_version(self) -> str:
        return self.version[:12]

    @property
    def prompt(self) -> Prompt:
        """The parsed prompt file (parsed once per version, shared by the copies of a handle),
        as it runs on `model`: its variant for that model, else the default."""
        return self._file.for_model(self.model)

    @property
    def _file(self) -> Prompt:
        if not self._parsed:
            from ..prompt import parse_prompt

            self._parsed.append(parse_prompt(self.content, name=self.name))
        return self._parsed[0]

    @property
    def variant(self) -> str | None:
        """The variant `model` gets (None: the default body)."""
        return self.prompt.variant if self.model else None

    @property
    def variants(self) -> list[str]:
        """The names of the prompt's variants."""
        return [v.name for v in self._file.meta.variants] if "variants:" in self.content else []

    def for_model(self, model: str | None) -> PromptHandle:
        """This version as served to `model` (shares the parse)."""
        return self if model == self.model else replace(self, model=model)

    def render(self, **inputs: Any) -> list[dict[str, str]]:
        """The chat messages for these inputs, rendered here with the library's sandboxed
        renderer: the same messages the server's render route gives."""
        return [m.to_dict() for m in self.prompt.render(inputs)]

    def with_source(self, source: str) -> PromptHandle:
        # Shares `_parsed` (the list object) so a copy does not parse the file again.
        return replace(self, source=source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "content": self.content,
            "labels": list(self.labels),
            "label": self.label,
            **({"model": self.model, "variant": self.variant} if self.model else {}),
        }


@dataclass(frozen=True)
class Completion:
    """The gateway's answer: the output and the id of the trace it recorded."""

    output: str
    trace_id: str | None
    name: str
    version: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    latency_ms: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    variant: str | None = None  # the prompt's variant the model got; None: the default

    def __str__(self) -> str:
        return self.output
