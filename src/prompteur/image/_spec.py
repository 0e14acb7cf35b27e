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
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
