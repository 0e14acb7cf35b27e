"""A pack's model card: each prompt's pass rate on its suite, per model, measured.

`measure` runs every suite of the pack, as the package ships it (never a user's edited copy),
on one model, in a throwaway store; `write_card` puts the figures for that model into
`model-card.yaml` (the other models' figures stay), with the pack's version and the version
of each prompt, so a card always says what it measured.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ._packs import Pack

if TYPE_CHECKING:
    from ..config import Config
    from ..records import ResultRecord

HEADER = (
    "# The pack's model card: each prompt's pass rate on its suite, per model.\n"
    "# Written by `prompteur packs measure {pack} -m MODEL`; measured, not edited by hand.\n"
)


def suite_version(path: Path) -> str:
    """The short content hash of a suite file: a card names the cases it measured, so a suite
    changed since (a case added, a check made stricter) shows as well as a changed prompt."""
    from ..prompt import content_hash

    return content_hash(path.read_text(encoding="utf-8"))[:12]


def measure(
    pack: Pack,
    model_id: str,
    config: Config,
    *,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> dict[str, Any]:
    """Run the pack's suites on `model_id`; the card's entry for that model."""
    from .. import __version__, stats
    from ..evaluation import EvalPlan, evaluate_plan
    from ..prompt import load_prompt
    from ..store import Store
    from ..suite import load_suite

    plans = []
    for suite_path in pack.suite_files():
        suite = load_suite(suite_path)
        named = {load_prompt(p).name: p for p in pack.prompt_files()}
        prompts = [load_prompt(named[n]) for n in suite.spec.prompts if n in named]
        if len(prompts) != len(suite.spec.prompts):
            raise UserError(
                "names a prompt the pack does not have", file=suite_path, field="prompts"
            )
        plans.append(
            EvalPlan(suite, prompts, {p.version: [model_id] for p in prompts}, suite.spec.repeat)
        )
    if on_start is not None:
        on_start(sum(p.total() for p in plans))
    entry: dict[str, Any] = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d"),
        "prompteur": __version__,
        "pack_version": pack.version,
        "prompts": {},
    }
    with tempfile.TemporaryDirectory(prefix="prompteur-card-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'card.db'}")
        try:
            for plan in plans:
                run_id = asyncio.run(
                    evaluate_plan(
                        config,
                        store,
                        plan,
                        extra={"pack": pack.name, "model_card": True},
                        on_result=on_result,
                    )
                ).run_id
                records = list(store.results(run_id))
                for p in plan.prompts:
                    mine = [r for r in records if r.version == p.version]
                    judged = [r for r in mine if r.passed is not None]
                    passed = sum(bool(r.passed) for r in judged)
                    rate = stats.wilson(passed, len(judged))
                    entry["prompts"][p.name] = {
                        "family": p.meta.metadata.get("family", p.name),
                        "lang": p.meta.metadata.get("lang"),
                        "suite": plan.suite.path.name,
                        "suite_version": suite_version(plan.suite.path),
                        "version": p.short_version,
                        "cases": len({r.case_id for r in mine}),
                        "passed": passed,
                        "judged": len(judged),
                        "errors": sum(r.error is not None for r in mine),
                        "pass_rate": _round(rate.estimate),
                        "ci95": [_round(rate.low), _round(rate.high)],
                    }
        finally:
            store.close()
    rates = [e["pass_rate"] for e in entry["prompts"].values() if e["pass_rate"] is not None]
    entry["mean_pass_rate"] = _round(sum(rates) / len(rates)) if rates else None
    return entry


def _round(x: float) -> float | None:
    return None if x != x else round(x, 3)  # NaN: nothing judged


def write_card(pack: Pack, model_id: str, entry: dict[str, Any], out: Path | None = None) -> Path:
    """Put `entry` under `models.<model_id>` of the card (the pack's, or `out`)."""
    import yaml

    from ..files import write_atomic
    from ..yamlfile import read_text, safe_load

    path = out or pack.card_path
    card: dict[str, Any] = {}
    if path.is_file():
        loaded = safe_load(read_text(path, "model card"), path)
        card = loaded if isinstance(loaded, dict) else {}
    models = card.get("models") if isinstance(card.get("models"), dict) else {}
    models[model_id] = entry  # type: ignore[index]
    card = {"pack": pack.name, "version": pack.version, "models": dict(sorted(models.items()))}  # type: ignore[union-attr]
    text = HEADER.format(pack=pack.name) + yaml.safe_dump(
        card, allow_unicode=True, sort_keys=False, width=100
    )
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise UserError(
            f"cannot write the model card: {exc.strerror}",
            file=path,
            hint="write it elsewhere with --out FILE",
        ) from None
    return path
