"""promptfoo → prompteur: a `promptfooconfig.yaml` becomes prompt files, one suite, and — for
a `redteam:` section — a probe plan.

The conversion follows promptfoo's own reading of its files (its docs and its evaluator): see
docs/import.md for what converts and how. Everything else is listed — where it is in the
promptfoo files, what it is, and why it was not converted — never silently dropped. Code that
comes with the config (Python and JavaScript assertions, transforms, providers) is referenced
by the converted suite and runs, bounded and out of process, when the suite runs.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import PrompteurError, UserError
from ._assertions import from_cell as expected_to_assertion
from ._result import Conversion, Skipped

__all__ = ["Conversion", "Skipped", "convert_promptfoo", "expected_to_assertion"]


def convert_promptfoo(
    config: str | Path, *, out: str | Path = ".", name: str | None = None
) -> Conversion:
    """Convert a promptfoo config into prompt files and a suite, in memory (nothing written)."""
    from ._convert import Converter

    config_path = Path(config)
    if config_path.is_dir():
        config_path = config_path / "promptfooconfig.yaml"
    try:
        return Converter(config_path, Path(out), name).run()
    except PrompteurError:
        raise
    except RecursionError:
        raise UserError("the config nests too deeply to convert", file=config_path) from None
    except Exception as exc:  # a case the importer does not know: say so, without a traceback
        raise UserError(
            f"prompteur could not read this config ({type(exc).__name__}: {exc})",
            file=config_path,
            hint="this is a gap in prompteur's importer: please report it with the config",
        ) from None
