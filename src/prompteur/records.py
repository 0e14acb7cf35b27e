"""What a run stores for each work item: one `ResultRecord`. A base-layer module, so that the
store and every feature can name it without importing the runner."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Key = tuple[str, str, str, int]  # (prompt version, model, case id, repeat)


@dataclass
class ResultRecord:
    prompt: str
    version: str
    model: str
    case_id: str
    repeat: int
    inputs: dict[str, Any]
    expected: Any
    output: str | None
    passed: bool | None
    score: float | None
    checks: list[dict[str, Any]] = field(default_factory=list)
    latency_s: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    error: str | None = None
    cached: bool = False
    attempts: int = 0
    tags: list[str] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.version, self.model, self.case_id, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
