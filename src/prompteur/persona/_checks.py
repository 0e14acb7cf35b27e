"""`register`, `vocabulary`, `repetition` and `role`: ordinary checks, usable in any suite.

```yaml
checks:
  - {type: register, value: vous}            # tu | vous | formal | casual
  - {type: repetition}                       # no sentence twice, no parroting, no replay
  - {type: role}                             # answers as the assistant, not as the user
  - type: vocabulary
    avoid: [malheureusement, "pas de souci"]
    require: ["L'équipe Nova"]               # every one must appear
    use: [volontiers, "je m'en occupe"]      # preferred words...
    min_use: 0                               # ...of which at least this many
```
"""

from __future__ import annotations

from typing import Any

from ..checks import CheckContext, CheckFn, CheckResult, check, result
from ._character import repetition as judge_repetition
from ._character import role_reversal
from ._register import judge_register
from ._vocabulary import judge_vocabulary

REGISTERS = ("tu", "vous", "formal", "casual")


def _terms(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"{name}: expected a word or a list of words")


@check("register")
def register(value: str) -> CheckFn:
    """The reply keeps a register: tu or vous (French), formal or casual (English)."""
    if value not in REGISTERS:
        raise ValueError(f"unknown register {value!r}: use tu, vous, formal or casual")

    def run(ctx: CheckContext) -> CheckResult:
        ok, why = judge_register(ctx.output, value)
        return result("register", ok, why)

    return run


@check("vocabulary")
def vocabulary(
    avoid: Any = None, require: Any = None, use: Any = None, min_use: int = 0
) -> CheckFn:
    """No `avoid` word, every `require` word, and at least `min_use` of the `use` words."""
    avoid_, require_, use_ = _terms(avoid, "avoid"), _terms(require, "require"), _terms(use, "use")
    if not (avoid_ or require_ or use_):
        raise ValueError("give avoid:, require: or use:")
    if min_use < 0 or min_use > len(use_):
        raise ValueError(f"min_use must be between 0 and the {len(use_)} use: words")

    def run(ctx: CheckContext) -> CheckResult:
        v = judge_vocabulary(ctx.output, avoid=avoid_, require=require_, use=use_, min_use=min_use)
        return result("vocabulary", v.passed, v.reason, v.score)

    return run


@check("repetition")
def repetition() -> CheckFn:
    """The reply does not say the same sentence twice, loop on a phrase, parrot the user's
    message (`inputs.message`) or repeat an earlier reply (`inputs.earlier`, in a dialogue)."""

    def run(ctx: CheckContext) -> CheckResult:
        message = ctx.inputs.get("message")
        earlier = ctx.inputs.get("earlier") or []
        v = judge_repetition(
            ctx.output,
            message=message if isinstance(message, str) else "",
            earlier=[e for e in earlier if isinstance(e, str)],
        )
        return result("repetition", v.passed, v.reason)

    return run


@check("role")
def role() -> CheckFn:
    """The reply answers as the assistant, not as the user: no user turn written, no help
    asked for, the user's things not called its own."""

    def run(ctx: CheckContext) -> CheckResult:
        message = ctx.inputs.get("message")
        v = role_reversal(ctx.output, message=message if isinstance(message, str) else "")
        return result("role", v.passed, v.reason)

    return run
