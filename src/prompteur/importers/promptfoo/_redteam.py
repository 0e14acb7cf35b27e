"""promptfoo `redteam:` → a `prompteur probe` plan: plugins and strategies become probes.

promptfoo generates attacks with a model (`promptfoo redteam generate`) from plugins (what to
attack) and strategies (how to deliver it). prompteur's probes make their attacks from a
corpus and the suite's cases, and detect with deterministic detectors (and a judge for the
policy). The plan names the probes that test the same weakness; a plugin or strategy with no
such probe is listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...nunjucks import js_str
from ._result import Unsupported

if TYPE_CHECKING:
    from ._convert import Converter
    from ._prompts import Prompt

# plugin (or its prefix before ':') → probes
PLUGINS: dict[str, list[str]] = {
    "harmful": ["ethics.policy"],
    "policy": ["ethics.policy"],
    "intent": ["ethics.policy"],
    "contracts": ["ethics.policy"],
    "politics": ["ethics.policy"],
    "religion": ["bias.religion"],
    "bias": ["bias.gender", "bias.age", "bias.origin"],
    "bias:gender": ["bias.gender"],
    "bias:age": ["bias.age"],
    "bias:race": ["bias.origin"],
    "pii": ["leakage.pii"],
    "prompt-extraction": ["leakage.system-prompt"],
    "system-prompt-override": ["injection.direct"],
    "hijacking": ["injection.direct"],
    "indirect-prompt-injection": ["injection.indirect"],
    "ascii-smuggling": ["injection.encoded"],
    "hallucination": ["hallucination.unanswerable", "hallucination.false-premise"],
    "overreliance": ["hallucination.false-premise"],
    "unverifiable-claims": ["hallucination.unanswerable"],
    "excessive-agency": ["injection.direct"],
    "imitation": ["ethics.policy"],
    "competitors": ["ethics.policy"],
    "xstest": ["over-refusal.benign"],
    "donotanswer": ["ethics.policy"],
    "beavertails": ["ethics.policy"],
    "harmbench": ["ethics.policy"],
    "toxic-chat": ["ethics.policy"],
    "cyberseceval": ["injection.direct"],
    "default": ["injection.direct", "leakage.system-prompt", "leakage.pii", "ethics.policy"],
    "foundation": [
        "injection.direct",
        "leakage.system-prompt",
        "ethics.policy",
        "hallucination.unanswerable",
    ],
}
STRATEGIES: dict[str, list[str]] = {
    "basic": [],
    "jailbreak": ["injection.direct"],
    "jailbreak:composite": ["injection.direct"],
    "jailbreak:likert": ["injection.direct"],
    # Single-turn attacks refined by an attacker model, as `jailbreak` (tree search, meta-agent);
    # the multi-turn ones (crescendo, goat, hydra) have no probe.
    "jailbreak:tree": ["injection.direct"],
    "jailbreak:meta": ["injection.direct"],
    "prompt-injection": ["injection.direct"],
    "base64": ["injection.encoded"],
    "rot13": ["injection.encoded"],
    "leetspeak": ["injection.encoded"],
    "homoglyph": ["injection.encoded"],
    "hex": ["injection.encoded"],
}


def _names(items: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for item in items or []:
        if isinstance(item, str):
            out.append((item, {}))
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            out.append((item["id"], item))
    return out


def convert_redteam(
    conv: Converter, redteam: Any, prompts: list[Prompt], cases: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The probe plan (written beside the suite), and the cases the probes start from."""
    from ._convert import Test, dump

    where = conv.where("redteam")
    if not isinstance(redteam, dict):
        conv.skip(where, "redteam", "must be a mapping")
        return cases
    probes: list[str] = []
    policies: list[str] = []
    for name, item in _names(redteam.get("plugins") or ["default"]):
        found = PLUGINS.get(name) or PLUGINS.get(name.split(":", 1)[0])
        if found is None:
            conv.skip(where, f"redteam plugin '{name}'", "no prompteur probe tests this weakness")
            continue
        probes.extend(found)
        policy = (item.get("config") or {}).get("policy") if item else None
        if isinstance(policy, str):
            policies.append(policy)
    for name, _item in _names(redteam.get("strategies")):
        found = STRATEGIES.get(name)
        if found is None:
            conv.skip(
                where, f"redteam strategy '{name}'", "no prompteur probe delivers attacks this way"
            )
            continue
        probes.extend(found)
    for key in redteam:
        if key in (
            "plugins",
            "strategies",
            "purpose",
            "numTests",
            "injectVar",
            "language",
            "provider",
            "entities",
            "description",
        ):
            continue
        conv.skip(conv.where("redteam", key), f"redteam.{key}", "not converted")
    if redteam.get("language") not in (None, "en", "English", "fr", "French"):
        conv.skip(where, "redteam.language", "prompteur's attack corpus is English and French")
    inject = redteam.get("injectVar")
    if not isinstance(inject, str):
        import re

        names: set[str] = set()
        for p in prompts:
            bodies = [p.text_body] if p.chat is None else [t for _, t in p.chat]
            for body in bodies:
                names |= set(re.findall(r"\{\{\s*([A-Za-z_]\w*)", body))
        inject = sorted(names)[-1] if len(names) == 1 else "prompt"
    cases = [c for c in cases if inject in c["vars"]]
    if not cases:
        purpose = js_str(redteam.get("purpose") or "").strip()
        seed = "Hello, what can you help me with?"
        t = Test({inject: seed}, [], {}, "red team starting case", where, base=conv.base)
        cases = [*cases, {"test": t, "vars": {inject: seed}}]
        conv.notes.append(
            f"redteam: the probes start from one case whose {inject!r} is a greeting; they "
            "replace it with their attacks" + (f" (purpose: {purpose[:80]})" if purpose else "")
        )
    plan: dict[str, Any] = {
        "prompt": conv.name if len(prompts) == 1 else f"{conv.name}-1",
        "suite": f"suites/{conv.name}.yaml",
        "probes": list(dict.fromkeys(probes)) or ["injection.direct"],
        "field": inject,
    }
    if isinstance(redteam.get("numTests"), int):
        plan["per_case"] = max(1, int(redteam["numTests"]))
    if policies:
        path = conv.out / "probes" / f"{conv.name}-policy.md"
        conv.result.files[path] = "The assistant must follow these policies:\n" + "".join(
            f"- {' '.join(p.split())}\n" for p in policies
        )
        plan["policy"] = f"probes/{conv.name}-policy.md"
    path = conv.out / "probes" / f"{conv.name}.yaml"
    conv.result.files[path] = (
        f"# A probe plan imported from promptfoo's redteam section ({conv.config.name}).\n"
        f"# Run it: prompteur probe --plan {path.as_posix()}\n" + dump(plan)
    )
    conv.result.plan = path
    return cases


__all__ = ["PLUGINS", "STRATEGIES", "Unsupported", "convert_redteam"]
