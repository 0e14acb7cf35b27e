"""Project configuration: `prompteur.toml`, found by walking up from the working folder.

Holds no secrets by design: provider keys come only from environment variables, and a key
written into the file is refused (it would end up in git).
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import UserError

if TYPE_CHECKING:
    from .limits import Limits

CONFIG_NAME = "prompteur.toml"
STATE_DIR = ".prompteur"
DATABASE_ENV = "PROMPTEUR_DATABASE_URL"


class ProjectSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    default_model: str = "local"
    prompts: str = "prompts"
    suites: str = "suites"
    store: str = f"sqlite:///{STATE_DIR}/prompteur.db"


class LocalSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(default=None, description="a GGUF file; default: the embedded model")
    threads: int | None = Field(default=None, ge=1, description="default: every core")
    context: int = Field(default=4096, ge=256)
    batch: int = Field(default=512, ge=32)


class ProviderSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    api_key_env: str | None = Field(default=None, description="name of the variable with the key")
    timeout: float = Field(default=120.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    api_version: str | None = Field(default=None, description="Azure OpenAI's api-version")


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0, description="USD per million input tokens")
    output: float = Field(ge=0, description="USD per million output tokens")


class RegistrySection(BaseModel):
    """`[registry]`: which labels only move through the gate (`prompteur promote`)."""

    model_config = ConfigDict(extra="forbid")

    gated: list[str] = Field(default_factory=lambda: ["production"])
    threshold: float = Field(default=0.8, ge=0, le=1, description="lowest pass rate promoted")
    suites: dict[str, str] = Field(default_factory=dict, description="prompt name → suite file")


class MonitorPromptSection(BaseModel):
    """`[monitor.prompts.NAME]`: one prompt's online scoring."""

    model_config = ConfigDict(extra="forbid")

    sample: float | None = Field(default=None, ge=0, le=1, description="share of traces scored")
    suite: str | None = Field(default=None, description="suite whose checks score its traces")


class MonitorSection(BaseModel):
    """`[monitor]`: online scoring and alerts (see traces/alerts.py)."""

    model_config = ConfigDict(extra="forbid")

    sample: float = Field(default=0.1, ge=0, le=1, description="share of traces scored")
    prompts: dict[str, MonitorPromptSection] = Field(default_factory=dict)
    webhook: str | None = Field(default=None, description="URL that receives alerts (POST)")
    webhook_env: str | None = Field(default=None, description="variable holding that URL")
    window: str = Field(default="1d", description="recent window compared with the baseline")
    baseline: str = Field(default="7d", description="baseline window, just before it")
    min_count: int = Field(default=20, ge=2, description="fewest traces per window to compare")
    alpha: float = Field(default=0.01, gt=0, lt=1, description="significance of the tests")
    min_drop: float = Field(default=0.05, ge=0, le=1, description="smallest pass-rate drop")
    psi: float = Field(default=0.2, gt=0, description="input-length PSI that is a shift")
    language_shift: float = Field(default=0.15, gt=0, le=1, description="language-mix distance")
    embedding_shift: float = Field(default=0.15, gt=0, le=2, description="centroid distance")
    embeddings: bool = Field(default=False, description="compare input meanings too (slow)")
    embedder: str = Field(default="local", description="embedder id, as for the similar check")


class SecuritySection(BaseModel):
    """`[security]`: the endpoints (URLs, GGUF files) a model id may name itself."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[str] = Field(
        default_factory=list,
        description="endpoints honoured from any source and trusted with the provider's key",
    )


class LimitsSection(BaseModel):
    """`[limits]`: raise a bound of limits.py for this project (docs/security.md)."""

    model_config = ConfigDict(extra="forbid")

    prompt_bytes: int | None = Field(default=None, gt=0)
    spec_bytes: int | None = Field(default=None, gt=0)
    dataset_line_bytes: int | None = Field(default=None, gt=0)
    yaml_alias_nodes: int | None = Field(default=None, ge=0)
    nesting_depth: int | None = Field(default=None, gt=0)
    render_chars: int | None = Field(default=None, gt=0)
    render_steps: int | None = Field(default=None, gt=0)
    render_seconds: float | None = Field(default=None, gt=0)
    body_bytes: int | None = Field(default=None, gt=0)


class ScoreSection(BaseModel):
    """A score people give in review queues (`[scores.NAME]`); checked by prompteur.review."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["pass_fail", "categorical", "numeric"] = "pass_fail"
    categories: list[str] = Field(default_factory=list, description="categorical: 2 to 9")
    range: tuple[float, float] | None = Field(default=None, description="numeric: [low, high]")
    description: str = Field(default="", max_length=2000, description="shown to reviewers")
    description_fr: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> ScoreSection:
        if self.kind == "categorical":
            if not 2 <= len(self.categories) <= 9 or len(set(self.categories)) != len(
                self.categories
            ):
                raise ValueError("a categorical score needs 2 to 9 distinct categories")
        elif self.categories:
            raise ValueError("categories belong to a categorical score")
        if self.kind == "numeric":
            if self.range is None or not self.range[0] < self.range[1]:
                raise ValueError("a numeric score needs a range [low, high] with low < high")
        elif self.range is not None:
            raise ValueError("a range belongs to a numeric score")
        return self


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: ProjectSection = Field(default_factory=ProjectSection)
    local: LocalSection = Field(default_factory=LocalSection)
    providers: dict[str, ProviderSection] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)
    registry: RegistrySection = Field(default_factory=RegistrySection)
    monitor: MonitorSection = Field(default_factory=MonitorSection)
    security: SecuritySection = Field(default_factory=SecuritySection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    scores: dict[str, ScoreSection] = Field(default_factory=dict)


@dataclass
class Config:
    root: Path
    file: Path | None
    data: ConfigFile
    # Set by the shell that opened the project (never read from a file):
    # `served`: a server answers requests with it, so a model id's own endpoint is honoured
    # only when the project names it (models/providers.py: endpoint_allowed);
    # `typed_endpoints`: endpoints the local user typed on the command line (`-m`), trusted
    # with the provider's key like the configured ones;
    # `project_endpoints`: endpoints the project's own files name, found when it was opened.
    served: bool = False
    typed_endpoints: set[str] = field(default_factory=set)
    project_endpoints: set[str] = field(default_factory=set)

    @functools.cached_property
    def limits(self) -> Limits:
        """The bounds of limits.py with this project's `[limits]` on top."""
        from . import limits

        return limits.DEFAULT.updated(**self.data.limits.model_dump())

    @property
    def database_url(self) -> str:
        url = os.environ.get(DATABASE_ENV) or self.data.project.store
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            url = prefix + str((self.root / url[len(prefix) :]).resolve())
        return url

    @property
    def prompts_dir(self) -> Path:
        return self.root / self.data.project.prompts

    @property
    def suites_dir(self) -> Path:
        return self.root / self.data.project.suites

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def provider(self, name: str) -> ProviderSection:
        return self.data.providers.get(name, ProviderSection())


def find_config_file(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


_SECRET_KEY = re.compile(r"^\s*(api_key|apikey|key|token|secret|password)\s*=", re.I | re.M)


def load_config(start: Path | None = None) -> Config:
    """The project's config, or defaults rooted at the working folder when there is none."""
    file = find_config_file(start)
    if file is None:
        return Config(root=(start or Path.cwd()).resolve(), file=None, data=ConfigFile())
    text = file.read_text(encoding="utf-8")
    m = _SECRET_KEY.search(text)
    if m:
        line = text[: m.start()].count("\n") + 1 + (text[m.start() :].startswith("\n"))
        raise UserError(
            "a secret in the config file is refused",
            file=file,
            line=line,
            field=m.group(1),
            hint="set the key in an environment variable (e.g. OPENAI_API_KEY) or name the "
            "variable with api_key_env",
        )
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        lm = re.search(r"line (\d+)", str(exc))
        raise UserError(
            f"malformed TOML: {exc}", file=file, line=int(lm.group(1)) if lm else None
        ) from None
    try:
        data = ConfigFile.model_validate(raw)
    except ValidationError as exc:
        import difflib

        from .yamlfile import fields_at

        err = exc.errors(include_url=False)[0]
        loc = [str(p) for p in err["loc"]]
        hint = None
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'"
            close = difflib.get_close_matches(loc[-1], fields_at(ConfigFile, loc[:-1]), n=1)
            hint = f"did you mean '{close[0]}'?" if close else None
        else:
            msg = err["msg"]
        raise UserError(
            msg, file=file, line=_toml_line(text, loc), field=".".join(loc), hint=hint
        ) from None
    return Config(root=file.parent, file=file, data=data)


def _toml_line(text: str, loc: list[str]) -> int | None:
    """Best-effort line of a dotted key: the key's line inside its table, else the table's."""
    lines = text.split("\n")
    section_line = None
    for depth in range(len(loc) - 1, 0, -1):
        header = ".".join(f'"{p}"' if not re.fullmatch(r"[\w-]+", p) else p for p in loc[:depth])
        for i, line in enumerate(lines):
            if line.strip() in (f"[{header}]", f"[{'.'.join(loc[:depth])}]"):
                section_line = i
                for j in range(i + 1, len(lines)):
                    if lines[j].lstrip().startswith("["):
                        break
                    if re.match(rf"\s*\"?{re.escape(loc[depth])}\"?\s*=", lines[j]):
                        return j + 1
                return i + 1
    if section_line is None:
        for i, line in enumerate(lines):
            if re.match(rf"\s*{re.escape(loc[0])}\s*=", line) or line.strip() == f"[{loc[0]}]":
                return i + 1
    return None
