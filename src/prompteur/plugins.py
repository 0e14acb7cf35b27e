"""Extension points: providers, checks, probes, lint rules and embedders, found by entry
points — the one mechanism the built-ins use too (pyproject.toml declares them in the same
groups a third-party package would).

A plugin is a package that declares, in its own pyproject.toml,

    [project.entry-points."prompteur.checks"]
    shouts = "my_package.checks:shouts"

and is installed beside prompteur: nothing in prompteur changes. Discovery is lazy (nothing
here runs on `prompteur --help`) and cached per process. A plugin never replaces a built-in
(a provider named `openai` would receive OPENAI_API_KEY): the built-in wins and `collisions()`
says so; two plugins claiming one name are refused, naming both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from .errors import UserError

GROUPS = (
    "prompteur.providers",
    "prompteur.checks",
    "prompteur.probes",
    "prompteur.lint_rules",
    "prompteur.embedders",
)
DIST = "prompteur"
NOUNS = {
    "prompteur.providers": "provider",
    "prompteur.checks": "check",
    "prompteur.probes": "probe",
    "prompteur.lint_rules": "lint rule",
    "prompteur.embedders": "embedder",
}


@dataclass(frozen=True)
class Entry:
    name: str
    group: str
    value: str  # "module:attribute"
    dist: str  # the distribution that declares it

    @property
    def builtin(self) -> bool:
        return self.dist == DIST

    def load(self) -> Any:
        return _load(self.value)


@functools.cache
def _load(value: str) -> Any:
    from importlib import import_module

    module, _, attr = value.partition(":")
    obj: Any = import_module(module)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


@functools.cache
def _installed() -> tuple[Any, ...]:
    # One pass over every installed distribution's metadata for all the groups (a pass per
    # group would read each entry_points.txt five times).
    from importlib.metadata import entry_points

    everything = entry_points()
    return tuple(ep for group in GROUPS for ep in everything.select(group=group))


@functools.cache
def _scan(group: str) -> tuple[dict[str, Entry], tuple[str, ...]]:
    """The entries of a group, built-ins first, and what was said about name collisions."""
    builtin: dict[str, Entry] = {}
    others: dict[str, Entry] = {}
    said: list[str] = []
    for ep in (ep for ep in _installed() if ep.group == group):
        dist = ep.dist.name if ep.dist is not None else "?"
        entry = Entry(ep.name, group, ep.value, dist)
        if entry.builtin:
            builtin[ep.name] = entry
        elif ep.name in others and others[ep.name].value != ep.value:
            raise UserError(
                f"two plugins declare the {NOUNS.get(group, group)} '{ep.name}': "
                f"{others[ep.name].dist} and {dist}",
                hint="uninstall one of them",
            )
        else:
            others[ep.name] = entry
    if {n: e.value for n, e in builtin.items()} != BUILTIN[group]:
        # A bare source tree (no installed metadata), or metadata older than pyproject.toml
        # (an editable install not reinstalled): the built-ins as pyproject.toml declares them.
        builtin = {n: Entry(n, group, v, DIST) for n, v in BUILTIN[group].items()}
    # In pyproject.toml's order (installed metadata sorts them): listings read the same.
    found = {n: builtin[n] for n in BUILTIN[group]}
    for name, entry in others.items():
        if name in builtin:
            said.append(
                f"the plugin {entry.dist} declares the {NOUNS.get(group, group)} '{name}', "
                "a built-in: the built-in is used"
            )
            continue
        found[name] = entry
    return found, tuple(said)


def entries(group: str) -> dict[str, Entry]:
    """Name → entry, for one of GROUPS: the built-ins, then the plugins'."""
    return _scan(group)[0]


def collisions(group: str) -> list[str]:
    """What listings say about plugins that tried to take a built-in's name."""
    return list(_scan(group)[1])


def load_all(group: str) -> dict[str, Any]:
    """Every entry of the group, loaded (listing commands)."""
    return {name: entry.load() for name, entry in entries(group).items()}


def refresh() -> None:
    """Forget what was discovered (after installing a plugin in a running process)."""
    _installed.cache_clear()
    _scan.cache_clear()


# The built-ins, exactly as pyproject.toml declares them (tests/plugins checks that the two
# agree): used when prompteur runs from a source tree without installed metadata.
BUILTIN: dict[str, dict[str, str]] = {
    "prompteur.providers": {
        "local": "prompteur.models.providers:LOCAL",
        "openai": "prompteur.models.providers:OPENAI",
        "anthropic": "prompteur.models.providers:ANTHROPIC",
        "mistral": "prompteur.models.providers:MISTRAL",
        "gemini": "prompteur.models.providers:GEMINI",
        "ollama": "prompteur.models.providers:OLLAMA",
        "azure_openai": "prompteur.models.providers:AZURE_OPENAI",
        "openai-compatible": "prompteur.models.providers:OPENAI_COMPATIBLE",
        "bedrock": "prompteur.models.providers:BEDROCK",
        "replicate": "prompteur.models.providers:REPLICATE",
        "huggingface": "prompteur.models.providers:HUGGINGFACE",
        "watsonx": "prompteur.models.providers:WATSONX",
        "echo": "prompteur.models.providers:ECHO",
        "http": "prompteur.models.providers:HTTP",
        "script": "prompteur.models.providers:SCRIPT",
    },
    "prompteur.checks": {
        "answer-relevance": "prompteur.checks._rag:answer_relevance",
        "classifier": "prompteur.checks._rag:classifier",
        "context-faithfulness": "prompteur.checks._rag:context_faithfulness",
        "context-recall": "prompteur.checks._rag:context_recall",
        "context-relevance": "prompteur.checks._rag:context_relevance",
        "is-sql": "prompteur.checks._formats:is_sql",
        "is-valid-openai-tools-call": "prompteur.checks._formats:tools_call",
        "javascript": "prompteur.checks._code:javascript_check",
        "moderation": "prompteur.checks._rag:moderation",
        "python-script": "prompteur.checks._code:python_script_check",
        "contains": "prompteur.checks._deterministic:contains",
        "contains-all": "prompteur.checks._deterministic:contains_all",
        "contains-any": "prompteur.checks._deterministic:contains_any",
        "cost": "prompteur.checks._deterministic:cost",
        "equals": "prompteur.checks._deterministic:equals",
        "factuality": "prompteur.checks._judge:factuality",
        "icontains": "prompteur.checks._deterministic:icontains",
        "icontains-all": "prompteur.checks._deterministic:icontains_all",
        "icontains-any": "prompteur.checks._deterministic:icontains_any",
        "is-json": "prompteur.checks._deterministic:is_json",
        "json-schema": "prompteur.checks._deterministic:json_schema",
        "latency": "prompteur.checks._deterministic:latency",
        "length": "prompteur.checks._deterministic:length",
        "levenshtein": "prompteur.checks._deterministic:levenshtein",
        "pairwise": "prompteur.checks._judge:pairwise",
        "python": "prompteur.checks._deterministic:python",
        "regex": "prompteur.checks._deterministic:regex",
        "register": "prompteur.persona._checks:register",
        "repetition": "prompteur.persona._checks:repetition",
        "role": "prompteur.persona._checks:role",
        "rouge-l": "prompteur.checks._deterministic:rouge",
        "rubric": "prompteur.checks._judge:rubric",
        "similar": "prompteur.checks._semantic:similar",
        "starts-with": "prompteur.checks._deterministic:starts_with",
        "vocabulary": "prompteur.persona._checks:vocabulary",
        "word-count": "prompteur.checks._deterministic:word_count",
    },
    "prompteur.probes": {
        "ambiguity.underspecified": "prompteur.probes.ambiguity:Underspecified",
        "bias.age": "prompteur.probes.bias:Age",
        "bias.gender": "prompteur.probes.bias:Gender",
        "bias.origin": "prompteur.probes.bias:Origin",
        "bias.religion": "prompteur.probes.bias:Religion",
        "ethics.policy": "prompteur.probes.ethics:Policy",
        "hallucination.false-premise": "prompteur.probes.hallucination:FalsePremise",
        "hallucination.grounding": "prompteur.probes.hallucination:Grounding",
        "hallucination.unanswerable": "prompteur.probes.hallucination:Unanswerable",
        "injection.direct": "prompteur.probes.injection:Direct",
        "injection.encoded": "prompteur.probes.injection:Encoded",
        "injection.indirect": "prompteur.probes.injection:Indirect",
        "leakage.pii": "prompteur.probes.leakage:PersonalData",
        "leakage.system-prompt": "prompteur.probes.leakage:SystemPrompt",
        "over-refusal.benign": "prompteur.probes.over_refusal:Benign",
        "robustness.casing": "prompteur.probes.robustness:Casing",
        "robustness.control": "prompteur.probes.robustness:Control",
        "robustness.distractor": "prompteur.probes.robustness:Distractor",
        "robustness.paraphrase": "prompteur.probes.robustness:Paraphrase",
        "robustness.punctuation": "prompteur.probes.robustness:Punctuation",
        "robustness.reorder": "prompteur.probes.robustness:Reorder",
        "robustness.spacing": "prompteur.probes.robustness:Spacing",
        "robustness.translate": "prompteur.probes.robustness:Translate",
        "robustness.typos": "prompteur.probes.robustness:Typos",
    },
    "prompteur.lint_rules": {
        "I001": "prompteur.lint._image:missing_subject",
        "I002": "prompteur.lint._image:conflicting_lighting",
        "I003": "prompteur.lint._image:aspect_ratio_format",
        "I004": "prompteur.lint._image:weight_out_of_range",
        "I005": "prompteur.lint._image:avoid_contradicts",
        "I006": "prompteur.lint._image:negative_in_positive",
        "I007": "prompteur.lint._image:target_syntax",
        "I008": "prompteur.lint._image:weight_absent",
        "I009": "prompteur.lint._image:conflicting_dof",
        "P000": "prompteur.lint._loading:does_not_load",
        "P001": "prompteur.lint._intent:no_objective",
        "P002": "prompteur.lint._intent:no_audience",
        "P003": "prompteur.lint._intent:no_output_format",
        "P004": "prompteur.lint._clarity:ambiguous_reference",
        "P005": "prompteur.lint._clarity:conflicting",
        "P006": "prompteur.lint._clarity:negative_only",
        "P007": "prompteur.lint._variables:undefined_variable",
        "P008": "prompteur.lint._variables:unused_variable",
        "P009": "prompteur.lint._examples:example_contradicts",
        "P010": "prompteur.lint._injection:undelimited_input",
        "P011": "prompteur.lint._length:too_long",
        "S001": "prompteur.lint._suite:blind_field",
    },
    "prompteur.embedders": {
        "bedrock": "prompteur.checks._semantic:ProviderEmbedder",
        "gemini": "prompteur.checks._semantic:ProviderEmbedder",
        "local": "prompteur.checks._semantic:_make_local",
        "mistral": "prompteur.checks._semantic:ProviderEmbedder",
        "ollama": "prompteur.checks._semantic:ProviderEmbedder",
        "openai": "prompteur.checks._semantic:ProviderEmbedder",
        "openai-compatible": "prompteur.checks._semantic:ProviderEmbedder",
    },
}
