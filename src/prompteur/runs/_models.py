"""Which models a run uses: one order, everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt
    from ..suite import Suite


def choose_models(
    explicit: str | Sequence[str] | None,
    suite: Suite | Sequence[str] | None,
    prompt: Prompt | None,
    config: Config,
) -> list[str]:
    """The first of, in order: the caller's (`-m`, an API argument, a request body), the
    run's definition (a suite's `models:`; for a chain, the step's or the chain's model), the
    prompt's own `model:`, the project's `default_model`. Duplicates dropped, order kept;
    a caller that needs one model takes the first.

    The most specific statement of this run's intent wins: the person who typed it, then the
    experiment (every variant of an eval runs on the suite's models), then the prompt's author,
    then the project. A caller passes `prompt=None` when the prompt must not choose: a graded
    exercise (learn, challenge) does not pick its own grader.
    """
    # A bare `model: NAME` (Prompty: the project's default provider) resolves here.
    own = prompt.resolved_model_id(config) if prompt else None
    for level in (_ids(explicit), _ids(suite), _ids(own)):
        if level:
            return list(dict.fromkeys(level))
    return [config.data.project.default_model]


def _ids(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    spec = getattr(value, "spec", None)
    if spec is not None:  # a Suite
        return [m for m in spec.models or [] if m]
    return [m for m in value if m]  # type: ignore[attr-defined]
