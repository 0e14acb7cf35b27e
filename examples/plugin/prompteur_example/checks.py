"""The `shouts` check: the output is written in capitals."""

from __future__ import annotations

from prompteur.checks import CheckContext, CheckFn, CheckResult, check, result


@check("shouts")
def shouts(*, min_letters: int = 1) -> CheckFn:
    """The output has at least `min_letters` letters, all of them capitals."""

    def run(ctx: CheckContext) -> CheckResult:
        letters = [c for c in ctx.output if c.isalpha()]
        if len(letters) < min_letters:
            return result("shouts", False, f"{len(letters)} letter(s), fewer than {min_letters}")
        lower = sum(c.islower() for c in letters)
        return result("shouts", lower == 0, f"{lower} lower-case letter(s)" if lower else "")

    return run
