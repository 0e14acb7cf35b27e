"""Image prompts: a structured spec (subject, medium, style, light, framing, lens and depth of
field, angle, palette, aspect ratio, what to avoid) rendered for Midjourney, DALL·E and Stable
Diffusion, linted by the I… rules, and generated through OpenAI's Images API when a key is
set."""

from ._render import TARGETS, Rendered, Target, dalle, midjourney, render, stable_diffusion
from ._spec import IMAGE_SUFFIXES, ImageSpec, ImageSpecFile, load_image_spec, parse_image_spec

__all__ = [
    "IMAGE_SUFFIXES",
    "TARGETS",
    "ImageSpec",
    "ImageSpecFile",
    "Rendered",
    "Target",
    "dalle",
    "load_image_spec",
    "midjourney",
    "parse_image_spec",
    "render",
    "stable_diffusion",
]
