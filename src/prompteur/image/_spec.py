"""The image spec: a YAML file describing a picture the way an art director would — subject,
medium, style, light, framing, lens and depth of field, angle, palette, aspect ratio and what
to avoid — independent of any image model's syntax.

```yaml
subject: an old fisherman mending a net on a wooden pier
details: [weathered hands, wool sweater]
medium: photograph
style: [documentary, film grain]
lighting: golden hour, low sun from the left
framing: medium close-up
camera_angle: eye level
lens: 85mm f/1.8
depth_of_field: shallow
palette: [ochre, slate blue]
aspect_ratio: "3:2"
avoid: [text, watermark]
weights: {weathered hands: 1.3}
midjourney: {version: 7, style: raw, stylize: 250, chaos: 10, seed: 42}
stable_diffusion: {steps: 30, cfg_scale: 7, sampler: DPM++ 2M Karras, seed: 42}
```

Model parameters are validated per target against the ranges each tool accepts (Midjourney's
parameter list; AUTOMATIC1111's and ComfyUI's samplers), so a spec that a tool would refuse
fails here, at its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..yamlfile import LineMap, load_model, read_text

IMAGE_SUFFIXES = (".image.yaml", ".image.yml")

# Fields whose words end up in the positive prompt, in the order a prompt reads best:
# what, then how it is made, then light, then camera, then colour.
POSITIVE_FIELDS = (
    "subject",
    "details",
    "medium",
    "style",
    "mood",
    "lighting",
    "framing",
    "camera_angle",
    "lens",
    "depth_of_field",
    "palette",
)


# Midjourney's model versions (`--v`) and the styles each family accepts (`--style`).
MJ_VERSIONS = ("1", "2", "3", "4", "5", "5.1", "5.2", "6", "6.1", "7")
MJ_STYLES = ("raw",)
NIJI_STYLES = ("cute", "expressive", "original", "scenic")


class MidjourneyParams(BaseModel):
    """Midjourney's parameters, as its documentation lists them, with their ranges."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = None  # --v
    niji: str | None = None  # --niji (the anime model), instead of --v
    style: str | None = None  # --style raw (v5.1+), or a niji style
    stylize: int | None = Field(default=None, ge=0, le=1000)  # --s
    chaos: int | None = Field(default=None, ge=0, le=100)  # --c
    weird: int | None = Field(default=None, ge=0, le=3000)  # --w
    quality: float | None = None  # --q
    seed: int | None = Field(default=None, ge=0, le=4_294_967_295)  # --seed
    stop: int | None = Field(default=None, ge=10, le=100)  # --stop
    tile: bool = False  # --tile

    @field_validator("version", "niji", mode="before")
    @classmethod
    def _number_text(cls, value: Any) -> Any:
        return f"{value:g}" if isinstance(value, int | float) else value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and value not in MJ_VERSIONS:
            raise ValueError(f"not a Midjourney version: {value}; known: {', '.join(MJ_VERSIONS)}")
        return value

    @field_validator("niji")
    @classmethod
    def _niji(cls, value: str | None) -> str | None:
        if value is not None and value not in ("4", "5", "6"):
            raise ValueError(f"not a niji version: {value}; known: 4, 5, 6")
        return value

    @field_validator("quality")
    @classmethod
    def _quality(cls, value: float | None) -> float | None:
        if value is not None and value not in (0.25, 0.5, 1, 2, 4):
            raise ValueError("quality is one of 0.25, 0.5, 1, 2, 4")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> MidjourneyParams:
        if self.version and self.niji:
            raise ValueError("give version (--v) or niji (--niji), not both")
        if self.style is not None:
            allowed = NIJI_STYLES if self.niji else MJ_STYLES
            if self.style not in allowed:
                raise ValueError(
                    f"style '{self.style}' is not one of {', '.join(allowed)}"
                    + (" (niji styles need niji:)" if self.style in NIJI_STYLES else "")
                )
            if self.style == "raw" and self.version and float(self.version) < 5.1:
                raise ValueError("style raw needs version 5.1 or later")
        return self

    def flags(self) -> list[str]:
        """The parameters as Midjourney reads them at the end of a prompt."""
        out = []
        for key, flag in (("niji", "--niji"), ("version", "--v"), ("style", "--style")):
            if getattr(self, key) is not None:
                out.append(f"{flag} {getattr(self, key)}")
        for key, flag in (
            ("stylize", "--s"),
            ("chaos", "--c"),
            ("weird", "--w"),
            ("quality", "--q"),
            ("seed", "--seed"),
            ("stop", "--stop"),
        ):
            value = getattr(self, key)
            if value is not None:
                out.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
        if self.tile:
            out.append("--tile")
        return out


# Samplers by the names AUTOMATIC1111 (and Forge) show and ComfyUI uses, compared without
# case, spaces, dashes or underscores ("DPM++ 2M Karras" = "dpmpp_2m karras").
SD_SAMPLERS = (
    "Euler", "Euler a", "LMS", "Heun", "DPM2", "DPM2 a", "DPM++ 2S a", "DPM++ 2M", "DPM++ SDE",
    "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 3M SDE", "DPM fast", "DPM adaptive", "DDIM",
    "DDPM", "PLMS", "UniPC", "LCM", "Restart", "euler_ancestral", "dpm_2", "dpm_2_ancestral",
    "dpmpp_2s_ancestral", "dpmpp_2m", "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_3m_sde", "uni_pc",
    "ipndm", "deis", "lms", "heun", "ddim", "lcm",
)  # fmt: skip
SD_SCHEDULERS = ("karras", "exponential", "sgm uniform", "simple", "normal", "beta", "automatic")


def _sampler_key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.lower()).replace("ancestral", "a").replace("dpmpp", "dpm++")


_SAMPLERS = {_sampler_key(n): n for n in SD_SAMPLERS}


class StableDiffusionParams(BaseModel):
    """Stable Diffusion's sampling parameters (AUTOMATIC1111 / ComfyUI), with their ranges."""

    model_config = ConfigDict(extra="forbid")

    steps: int | None = Field(default=None, ge=1, le=150)
    cfg_scale: float | None = Field(default=None, ge=1, le=30)
    sampler: str | None = None
    scheduler: str | None = None
    seed: int | None = Field(default=None, ge=-1, le=4_294_967_295)  # -1: random
    clip_skip: int | None = Field(default=None, ge=1, le=12)

    @field_validator("sampler")
    @classmethod
    def _sampler(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip()
        for scheduler in SD_SCHEDULERS:  # "DPM++ 2M Karras": sampler and scheduler in one
            if name.lower().endswith(" " + scheduler):
                base = name[: -len(scheduler) - 1]
                if _sampler_key(base) in _SAMPLERS:
                    return name
        if _sampler_key(name) not in _SAMPLERS:
            raise ValueError(f"unknown sampler '{value}'; known: {', '.join(SD_SAMPLERS[:20])} …")
        return name

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in SD_SCHEDULERS:
            raise ValueError(f"unknown scheduler '{value}'; known: {', '.join(SD_SCHEDULERS)}")
        return value

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ImageSpecFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    subject: str | None = None
    details: list[str] = Field(default_factory=list)
    medium: str | None = None
    style: list[str] = Field(default_factory=list)
    mood: str | None = None
    lighting: list[str] = Field(default_factory=list)
    framing: str | None = None
    camera_angle: str | None = None
    lens: str | None = None
    depth_of_field: str | None = None
    palette: list[str] = Field(default_factory=list)
    # A number when YAML read an unquoted 16:9 as base 60 (969): kept so lint can say so.
    aspect_ratio: str | int | float | None = None
    avoid: list[str] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=dict)
    midjourney: MidjourneyParams | None = None
    stable_diffusion: StableDiffusionParams | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("details", "style", "lighting", "palette", "avoid", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("weights", mode="before")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value


KNOWN_KEYS = list(ImageSpecFile.model_fields)


@dataclass
class ImageSpec:
    spec: ImageSpecFile
    path: Path | None
    lines: LineMap
    raw_lines: list[str]

    @property
    def source(self) -> str:
        return str(self.path) if self.path else "<image spec>"

    @property
    def name(self) -> str:
        if self.spec.name:
            return self.spec.name
        if self.path is None:
            return "image"
        name = self.path.name
        for suffix in (*IMAGE_SUFFIXES, ".yaml", ".yml"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return self.path.stem

    def line(self, *loc: str | int) -> int:
        return self.lines.line(loc)

    @property
    def aspect_ratio(self) -> str | None:
        """The ratio as written: an unquoted 16:9 is recovered from the file's text."""
        value = self.spec.aspect_ratio
        if value is None or isinstance(value, str):
            return value.strip() if isinstance(value, str) else None
        raw = self.raw_lines[self.line("aspect_ratio") - 1] if self.raw_lines else ""
        m = re.search(r"aspect_ratio\s*:\s*(\d+\s*:\s*\d+)", raw)
        return m.group(1).replace(" ", "") if m else str(value)

    def positive(self) -> list[tuple[str, str]]:
        """(field, term) for every positive term, in reading order."""
        out: list[tuple[str, str]] = []
        for name in POSITIVE_FIELDS:
            value = getattr(self.spec, name)
            values = value if isinstance(value, list) else [value]
            out += [(name, str(v).strip()) for v in values if v is not None and str(v).strip()]
        # "shallow" alone means nothing to an image model: say what is shallow.
        return [
            (f, f"{t} depth of field")
            if f == "depth_of_field" and not re.search(r"depth|focus|bokeh|net|flou|profondeur", t)
            else (f, t)
            for f, t in out
        ]


def parse_image_spec(text: str, path: str | Path | None = None) -> ImageSpec:
    source = str(path) if path else "<image spec>"
    spec, lines = load_model(
        text,
        ImageSpecFile,
        source,
        what="image spec",
        example_keys=("subject", "medium"),
        known=KNOWN_KEYS,
        empty_ok=True,
    )
    return ImageSpec(spec, Path(path) if path else None, lines, text.split("\n"))


def load_image_spec(path: str | Path) -> ImageSpec:
    path = Path(path)
    return parse_image_spec(read_text(path, "image spec"), path)


def looks_like_image_spec(data: Any) -> bool:
    return isinstance(data, dict) and bool(
        {"subject", "medium", "lighting", "framing", "aspect_ratio", "camera_angle"} & set(data)
    )
