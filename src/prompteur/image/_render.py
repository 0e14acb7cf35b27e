"""An image spec in each tool's own syntax.

- Midjourney: comma-separated terms; weighted terms as `::` multi-prompt parts (`term::1.3`);
  `--ar W:H`; `--no a, b`. Text that Midjourney would parse (`::`, `--`) is neutralised.
- DALL·E / gpt-image: natural prose, since it rewrites prompts into prose anyway. It has no
  weights and no negative prompt: strong weights become "with particular emphasis on …", and
  the things to avoid become one closing sentence (a known weakness: naming a thing can
  summon it — kept short for that reason). The ratio becomes the nearest supported `size`.
- Stable Diffusion: comma-separated tags, weights as `(term:1.2)`, a separate negative prompt;
  literal parentheses are escaped; the ratio becomes a width × height near one megapixel.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import UserError
from ._spec import ImageSpec

Target = Literal["midjourney", "dalle", "sd"]
TARGETS: tuple[Target, ...] = ("midjourney", "dalle", "sd")


@dataclass
class Rendered:
    target: Target
    prompt: str
    negative_prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "params": self.params,
            "notes": self.notes,
        }


def ratio(spec: ImageSpec) -> tuple[int, int] | None:
    text = spec.aspect_ratio
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        raise UserError(
            f"aspect ratio {text!r} is not W:H",
            file=spec.source,
            line=spec.line("aspect_ratio"),
            field="aspect_ratio",
            hint='write it quoted, e.g. aspect_ratio: "16:9"',
        )
    return int(m.group(1)), int(m.group(2))


def _require_subject(spec: ImageSpec) -> None:
    if not (spec.spec.subject or "").strip():
        raise UserError(
            "the spec has no subject",
            file=spec.source,
            line=1,
            field="subject",
            hint="say what the picture shows: subject: …",
        )


def _weight_of(spec: ImageSpec, term: str) -> float | None:
    for key, w in spec.spec.weights.items():
        if key.lower() == term.lower():
            return w
    return None


def _fmt(w: float) -> str:
    return f"{w:g}"


def _mj_text(text: str) -> str:
    return re.sub(r"-{2,}", "-", text.replace("::", ":")).strip()


def midjourney(spec: ImageSpec) -> Rendered:
    """Terms in reading order; a weighted term is its own multi-prompt part where it stands
    (`subject, details:: weathered hands::1.3 wool sweater, …`), since in Midjourney a `::`
    weight applies to the text between it and the previous `::`."""
    _require_subject(spec)
    parts: list[tuple[list[str], float | None]] = [([], None)]
    weighted_inside: dict[str, float] = {}
    terms = [t for _, t in spec.positive()]
    for key, w in spec.spec.weights.items():
        # A weight on a phrase inside a term ("hands" in "weathered hands") weights that term.
        holder = next((t for t in terms if key.lower() in t.lower()), None)
        if holder is not None and holder.lower() != key.lower():
            weighted_inside.setdefault(holder.lower(), w)
    for term in terms:
        w = _weight_of(spec, term)
        w = weighted_inside.get(term.lower()) if w is None else w
        if w is None:
            if parts[-1][1] is not None:
                parts.append(([], None))
            parts[-1][0].append(_mj_text(term))
        else:
            parts.append(([_mj_text(term)], w))
    present = " ".join(terms).lower()
    for key, w in spec.spec.weights.items():
        if key.lower() not in present:
            parts.append(([_mj_text(key)], w))
    parts = [(words, w) for words, w in parts if words]
    text = ""
    for i, (words, w) in enumerate(parts):
        text += ", ".join(words)
        last = i == len(parts) - 1
        if w is not None:
            text += f"::{_fmt(w)}" + ("" if last else " ")
        elif not last:
            text += ":: "
    params: dict[str, Any] = {}
    r = ratio(spec)
    if r:
        text += f" --ar {r[0]}:{r[1]}"
        params["ar"] = f"{r[0]}:{r[1]}"
    if spec.spec.avoid:
        avoid = ", ".join(_mj_text(a) for a in spec.spec.avoid)
        text += f" --no {avoid}"
        params["no"] = avoid
    notes = []
    if spec.spec.midjourney is not None:
        flags = spec.spec.midjourney.flags()
        text += "".join(" " + f for f in flags)
        params.update(spec.spec.midjourney.model_dump(exclude_none=True, exclude_defaults=True))
    if spec.spec.stable_diffusion is not None:
        notes.append("stable_diffusion: parameters apply to Stable Diffusion only")
    return Rendered("midjourney", text, params=params, notes=notes)


def _article(word: str) -> str:
    vowel_sound = word[:1].lower() in "aeiou8" or word.startswith(("11", "18"))
    return "an" if vowel_sound else "a"


def _and(items: list[str], word: str = "and") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def dalle_size(r: tuple[int, int] | None, model: str = "dall-e-3") -> str:
    """The supported size nearest the ratio (gpt-image-1 and DALL·E 3 differ)."""
    if r is None:
        return "1024x1024"
    x = r[0] / r[1]
    wide, tall = ("1536x1024", "1024x1536") if "gpt-image" in model else ("1792x1024", "1024x1792")
    if x >= 1.2:
        return wide
    if x <= 1 / 1.2:
        return tall
    return "1024x1024"


def dalle(spec: ImageSpec, model: str = "dall-e-3") -> Rendered:
    _require_subject(spec)
    s = spec.spec
    subject = (s.subject or "").strip().rstrip(".")
    first = f"{_article(s.medium)} {s.medium} of {subject}" if s.medium else subject
    if s.details:
        first += ", with " + _and(s.details)
    sentences = [first[:1].upper() + first[1:] + "."]
    if s.style:
        sentences.append(f"The style is {_and(s.style)}.")
    if s.mood:
        sentences.append(f"The mood is {s.mood}.")
    if s.lighting:
        sentences.append(f"The lighting is {_and(s.lighting)}.")
    camera = []
    if s.framing:
        camera.append(f"{_article(s.framing)} {s.framing}")
    if s.camera_angle:
        camera.append(f"seen from {_article(s.camera_angle)} {s.camera_angle}")
    if s.lens:
        camera.append(f"shot with {_article(s.lens)} {s.lens} lens")
    if s.depth_of_field:
        dof = s.depth_of_field
        camera.append(dof if "depth" in dof or "focus" in dof else f"{dof} depth of field")
    if camera:
        text = ", ".join(camera)
        sentences.append(text[:1].upper() + text[1:] + ".")
    if s.palette:
        sentences.append(f"The colour palette is {_and(s.palette)}.")
    strong = [t for t, w in s.weights.items() if w > 1.15]
    faint = [t for t, w in s.weights.items() if w < 0.85]
    if strong:
        sentences.append(f"Put particular emphasis on {_and(strong)}.")
    if faint:
        sentences.append(f"Keep {_and(faint)} subtle.")
    notes = []
    if s.avoid:
        sentences.append(f"The image contains no {_and(s.avoid, 'or')}.")
        notes.append(
            "DALL·E has no negative prompt: what to avoid is one sentence of prose, which is "
            "weaker than a negative prompt."
        )
    r = ratio(spec)
    size = dalle_size(r, model)
    if r and size == "1024x1024" and r[0] != r[1]:
        notes.append(f"{r[0]}:{r[1]} has no DALL·E size: square 1024x1024; crop afterwards.")
    return Rendered("dalle", " ".join(sentences), params={"size": size}, notes=notes)


def _sd_text(text: str) -> str:
    return re.sub(r"([()\[\]])", r"\\\1", text).strip()


def sd_size(r: tuple[int, int] | None, pixels: int = 1024 * 1024) -> tuple[int, int]:
    """Width × height for the ratio near `pixels` in total, in multiples of 64."""
    if r is None:
        return 1024, 1024
    x = r[0] / r[1]
    w = round(math.sqrt(pixels * x) / 64) * 64
    h = round(math.sqrt(pixels / x) / 64) * 64
    return max(64, w), max(64, h)


def stable_diffusion(spec: ImageSpec) -> Rendered:
    _require_subject(spec)
    parts = []
    for _, term in spec.positive():
        w = _weight_of(spec, term)
        text = _sd_text(term)
        parts.append(f"({text}:{_fmt(w)})" if w is not None and w != 1 else text)
    present = {t.lower() for _, t in spec.positive()}
    joined = ", ".join(parts)
    for key, w in spec.spec.weights.items():
        if key.lower() in present:
            continue
        text = _sd_text(key)
        if text.lower() in joined.lower() and w != 1:
            # weight a phrase inside a longer term where it stands
            joined = re.sub(re.escape(text), f"({text}:{_fmt(w)})", joined, count=1, flags=re.I)
        else:
            joined += f", ({text}:{_fmt(w)})"
    negative = ", ".join(_sd_text(a) for a in spec.spec.avoid) or None
    width, height = sd_size(ratio(spec))
    params: dict[str, Any] = {"width": width, "height": height}
    notes = []
    if spec.spec.stable_diffusion is not None:
        params.update(spec.spec.stable_diffusion.params())
    if spec.spec.midjourney is not None:
        notes.append("midjourney: parameters apply to Midjourney only")
    return Rendered("sd", joined, negative, params=params, notes=notes)


def render(spec: ImageSpec, target: Target, *, model: str = "dall-e-3") -> Rendered:
    if target == "midjourney":
        return midjourney(spec)
    if target == "dalle":
        return dalle(spec, model)
    if target == "sd":
        return stable_diffusion(spec)
    raise UserError(f"unknown target '{target}'", field="--target", hint="midjourney, dalle or sd")
