"""The API's request and response bodies (pydantic v2): what the OpenAPI document shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Names of prompts and labels as the store holds them (its column sizes).
NAME = Field(min_length=1, max_length=200)
LABEL = Field(min_length=1, max_length=100)


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in one sentence.")
    field: str | None = Field(default=None, description="The request field at fault, if any.")
    hint: str | None = None
    evidence: dict[str, Any] | None = Field(
        default=None, description="A refused promotion: what the gate saw."
    )


class MessageOut(BaseModel):
    """A message as `prompteur render --json` and the SDK give it (OpenAI's chat shape)."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] = Field(
        description="The text; for a message with media, its parts in order (text, image_url, "
        "file, input_audio)."
    )


class PromptSummary(BaseModel):
    name: str
    description: str | None = None
    tags: list[str] = []
    file_version: str | None = Field(
        default=None, description="Content hash of the prompt file as it is on disk now."
    )
    stored_versions: int = Field(description="How many versions the store holds.")
    labels: dict[str, str] = Field(description="label → version")


class PromptList(BaseModel):
    project: str
    prompts: list[PromptSummary]


class VersionSummary(BaseModel):
    version: str
    created_at: datetime
    labels: list[str] = Field(description="The labels that point at this version.")


class PromptDetail(BaseModel):
    name: str
    description: str | None = None
    file_version: str | None = None
    labels: dict[str, str]
    versions: list[VersionSummary] = Field(description="Stored versions, newest first.")


class VariantOut(BaseModel):
    name: str
    models: list[str] = Field(description="Model id globs that select this variant.")
    description: str | None = None


class VersionOut(BaseModel):
    name: str
    version: str
    content: str = Field(description="The prompt file's text at this version.")
    labels: list[str]
    created_at: datetime
    variants: list[VariantOut] = Field(
        default_factory=list, description="The prompt's variants per model family."
    )
    variant: str | None = Field(
        default=None,
        description="With ?model=: the variant that model gets (null: the default).",
    )


class RenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str | None = Field(
        default=None,
        max_length=100,
        description="A label or a version prefix; the newest stored version when absent.",
    )
    inputs: dict[str, Any] = Field(default_factory=dict)
    model: str | None = Field(
        default=None, max_length=300, description="Render the variant this model would get."
    )


class RenderOut(BaseModel):
    name: str
    version: str
    variant: str | None = None
    messages: list[MessageOut]


class LabelsOut(BaseModel):
    name: str
    labels: dict[str, str] = Field(description="label → version")


class LabelOut(BaseModel):
    name: str
    label: str
    version: str


class LabelPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=64, description="A version or its prefix.")
    reason: str | None = Field(default=None, max_length=2000)
    force: bool = Field(
        default=False,
        description="Move the label without the gate (needs the admin scope and a reason).",
    )
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Minimum pass rate for the gate."
    )


class LabelMoveOut(BaseModel):
    name: str
    label: str
    version: str | None = Field(description="What the label holds now (None: removed).")
    previous: str | None = None
    forced: bool
    evidence: dict[str, Any] | None = None


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class AuditEntry(BaseModel):
    name: str
    label: str
    action: str
    from_version: str | None
    to_version: str | None
    actor: str
    reason: str | None
    evidence: dict[str, Any] | None
    forced: bool
    created_at: datetime


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(
        default=None,
        max_length=100,
        description="The label to serve; `production` when neither label nor version is given.",
    )
    version: str | None = Field(default=None, max_length=64, description="A version prefix.")
    inputs: dict[str, Any] = Field(default_factory=dict)
    model: str | None = Field(
        default=None,
        max_length=300,
        description="A model id; default: the prompt's model, else the project's default.",
    )


class UsageOut(BaseModel):
    input_tokens: int
    output_tokens: int


class CompleteOut(BaseModel):
    name: str
    version: str
    label: str | None
    model: str
    variant: str | None = Field(
        default=None, description="The prompt's variant for this model; null: the default."
    )
    output: str
    finish_reason: str
    usage: UsageOut
    latency_ms: float
    cost_usd: float | None
    trace_id: str
    trace: dict[str, Any] | None = Field(
        default=None,
        description="Only when the store could not record the call: its trace, to send to "
        "POST /v1/traces once the store is back (the SDK does; a trace is stored once).",
    )


class RunOut(BaseModel):
    id: str
    suite: str
    status: str
    total: int
    done: int
    passed: int
    failed: int
    errors: int
    created_at: datetime
    finished_at: datetime | None
    plan: dict[str, Any] | None = Field(
        default=None, description="The run's plan (prompts, models, repeats); in /runs/{id}."
    )


class RunList(BaseModel):
    runs: list[RunOut]
    offset: int
    limit: int
    next_offset: int | None


class ResultOut(BaseModel):
    prompt: str
    version: str
    model: str
    case_id: str
    repeat: int
    inputs: dict[str, Any]
    expected: Any = None
    output: str | None
    passed: bool | None
    score: float | None
    checks: list[dict[str, Any]]
    latency_s: float | None
    input_tokens: int
    output_tokens: int
    cost: float | None
    error: str | None
    cached: bool


class ResultPage(BaseModel):
    run_id: str
    total: int
    offset: int
    limit: int
    next_offset: int | None
    results: list[ResultOut]
