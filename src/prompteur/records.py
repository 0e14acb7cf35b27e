"""What a run is and what it stores: its kind and status, and one `ResultRecord` per work
item. A base-layer module, so that the store and every feature can name them without importing
the runner or the lifecycle (runs/)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def final(self) -> bool:
        return self is not RunStatus.RUNNING


class RunKind(StrEnum):
    """What a run's plan records as its `kind` (eval runs made before kinds were recorded
    have none)."""

    EVAL = "eval"
    PROBE = "probe"
    OPTIMIZE = "optimize"
    CHAIN = "chain"
    GATE = "promote"  # what gate runs have always recorded
    REGRESS = "regress"
    PLAYGROUND = "playground"

    @classmethod
    def of(cls, plan: dict[str, Any]) -> RunKind:
        try:
            return cls(plan.get("kind") or cls.EVAL)
        except ValueError:
            return cls.EVAL

    @property
    def command(self) -> str | None:
        """The command that finishes an interrupted run of this kind; None when a run of
        this kind is not resumed (it is run again)."""
        return {
            RunKind.EVAL: "prompteur eval --resume",
            RunKind.PROBE: "prompteur probe --resume",
            RunKind.OPTIMIZE: "prompteur optimize --resume",
            RunKind.CHAIN: "prompteur chain test --resume",
        }.get(self)

    def resume_hint(self, run_id: str) -> str:
        command = self.command
        if command is None:
            return f"a {self.value} run is not resumed: run the command again"
        return f"finish it with: {command} {run_id}"


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
    # latency_s is the model's time; queue_s the time the call waited before it (a slot of
    # the provider's limiter, retries' backoff, the embedded model's batch queue).
    queue_s: float | None = None
    # How the output was held to the prompt's schema: None (no schema), "off" (enforce:
    # false), "none" (the model could not), else how ("grammar", "json_schema", "tool"…).
    enforcement: str | None = None

    @property
    def key(self) -> Key:
        return (self.version, self.model, self.case_id, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
