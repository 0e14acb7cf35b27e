"""promptfoo providers → prompteur model ids: a table, not an if-chain.

A provider maps onto ours when it is the same service (openai, anthropic, mistral, gemini,
ollama), the same models through a gateway that calls that service for you (adaline), or a
service with an OpenAI-compatible endpoint of its own (groq, cerebras, deepseek…, then
`openai-compatible:MODEL@URL`). promptfoo's `echo`, `http` and Python `file://` providers have
prompteur equivalents. Everything else is listed, with what to do about it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import split_function, strip_file
from ._jsconfig import holds_function
from ._result import Unsupported

# promptfoo prefix → our provider (what follows the prefix is the model).
NATIVE: dict[str, str] = {
    "openai:chat:": "openai",
    "openai:responses:": "openai",
    "openai:": "openai",
    "anthropic:messages:": "anthropic",
    "anthropic:": "anthropic",
    "ollama:chat:": "ollama",
    "ollama:completion:": "ollama",
    "ollama:": "ollama",
    "mistral:chat:": "mistral",
    "mistral:": "mistral",
    "vertex:chat:": "gemini",
    "vertex:": "gemini",
    "google:": "gemini",
    "gemini:": "gemini",
}
# Services with an OpenAI-compatible endpoint of their own: prefix → (base URL, their key).
COMPATIBLE: dict[str, tuple[str, str]] = {
    "openrouter:": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "groq:": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "togetherai:": ("https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "deepseek:": ("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "fireworks:": ("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    "cerebras:": ("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
    "perplexity:": ("https://api.perplexity.ai", "PERPLEXITY_API_KEY"),
    "xai:": ("https://api.x.ai/v1", "XAI_API_KEY"),
    "hyperbolic:": ("https://api.hyperbolic.xyz/v1", "HYPERBOLIC_API_KEY"),
    "github:": ("https://models.github.ai/inference", "GITHUB_TOKEN"),
    "nscale:": ("https://inference.api.nscale.com/v1", "NSCALE_SERVICE_TOKEN"),
    "cohere:chat:": ("https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),
    "cohere:": ("https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),
    "huggingface:chat:": ("https://router.huggingface.co/v1", "HF_TOKEN"),
    "localai:chat:": ("http://localhost:8080/v1", ""),
    "localai:": ("http://localhost:8080/v1", ""),
    "llamafile:": ("http://localhost:8080/v1", ""),
    "litellm:chat:": ("http://0.0.0.0:4000/v1", "LITELLM_API_KEY"),
    "litellm:": ("http://0.0.0.0:4000/v1", "LITELLM_API_KEY"),
    "portkey:": ("https://api.portkey.ai/v1", "PORTKEY_API_KEY"),
    # Alibaba Cloud's Model Studio (DashScope), under each of promptfoo's names for it.
    "alibaba:": ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
    "alicloud:": ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
    "aliyun:": ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
    "dashscope:": ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
    "moonshot:": ("https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"),
    "minimax:": ("https://api.minimax.io/v1", "MINIMAX_API_KEY"),
}
# adaline:PROVIDER:chat:MODEL — the Adaline gateway calls the provider itself.
ADALINE: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gemini",
    "vertex": "gemini",
    "gemini": "gemini",
    "mistral": "mistral",
    "ollama": "ollama",
    "groq": "groq",
    "together-ai": "togetherai",
    "togetherai": "togetherai",
    "open-router": "openrouter",
    "openrouter": "openrouter",
    "azureopenai": "azure",
    "azure": "azure",
}
NOT_CHAT = {
    "openai:embedding": "an embedding model, not a chat model",
    "openai:embeddings": "an embedding model, not a chat model",
    "openai:assistant": "OpenAI Assistants (threads and runs), not chat completions",
    "openai:image": "an image generator",
    "openai:realtime": "the Realtime (audio) API",
    "openai:moderation": "a moderation model, not a chat model",
    "openai:transcription": "a speech-to-text model",
    "openai:codex": "the Codex agent SDK",
    "openai:agents": "the OpenAI Agents SDK",
    "openai:completion": "the legacy completions API (prompteur calls chat completions)",
    "anthropic:completion": "Anthropic's legacy completions API",
    "anthropic:claude-agent-sdk": "the Claude Agent SDK",
    "ollama:embeddings": "an embedding model, not a chat model",
    "huggingface:text-classification": "a classifier, not a chat model",
    "huggingface:feature-extraction": "an embedding model, not a chat model",
}
SERVICES = {
    "sagemaker": "Amazon SageMaker",
    "cloudflare-ai": "Cloudflare Workers AI",
    "huggingface": "Hugging Face",
    "voyage": "Voyage",
    "ai21": "AI21",
    "alibaba": "Alibaba Cloud",
    "vercel": "Vercel AI Gateway",
    "llama": "llama.cpp's native API",
    "adaline": "Adaline",
}
CODE_KINDS = {
    "exec",
    "golang",
    "ruby",
    "webhook",
    "websocket",
    "browser",
    "sequence",
    "simulated-user",
    "package",
    "mcp",
    "promptfoo",
    "jsonl",
    "manual-input",
}
PARAMS = {
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "maxOutputTokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "maxTokens": "max_tokens",
    "max_new_tokens": "max_tokens",
    "maxTokenCount": "max_tokens",
    "max_gen_len": "max_tokens",
    "num_predict": "max_tokens",
    "top_p": "top_p",
    "topP": "top_p",
    "stop": "stop",
    "stopSequences": "stop",
    "stop_sequences": "stop",
    "seed": "seed",
    "top_k": "top_k",
    "topK": "top_k",
    "frequency_penalty": "frequency_penalty",
    "frequencyPenalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "presencePenalty": "presence_penalty",
    "reasoning_effort": "reasoning_effort",
    "reasoningEffort": "reasoning_effort",
    "parallel_tool_calls": "parallel_tool_calls",
}
# Options promptfoo puts in the request body as they are, by our provider's wire format: they
# become the prompt's provider options (`Params.extra`), which our clients send as they are.
_OPENAI_BODY = {
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "logit_bias",
    "user",
    "store",
    "metadata",
    "service_tier",
    "prediction",
    "web_search_options",
}
BODY: dict[str, set[str]] = {
    "openai": _OPENAI_BODY,
    "azure_openai": _OPENAI_BODY,
    "openai-compatible": _OPENAI_BODY,
    "mistral": {"tools", "tool_choice", "safe_prompt"},
    "ollama": {"tools"},
    "gemini": {"tools", "tool_choice"},  # Gemini's OpenAI-compatible API
    "anthropic": {"tools", "tool_choice", "thinking", "metadata"},
    "bedrock": {"toolConfig", "guardrailConfig", "additionalModelRequestFields"},
}
# Providers that take the whole config as it is: a Python provider reads it (options["config"]),
# Replicate spreads it into the prediction's input.
VERBATIM = {"script", "replicate"}
# Bedrock's Converse API takes a model's own fields under additionalModelRequestFields.
BEDROCK_MODEL_FIELDS = {"thinking", "anthropic_version", "reasoning_config"}
# Where a provider is asked for structured output (OpenAI, Gemini in both spellings).
SCHEMA_KEYS = ("response_format", "responseFormat", "responseSchema", "response_schema")
MIME_KEYS = ("responseMimeType", "response_mime_type")
# Where providers nest their sampling parameters (Gemini, Amazon Nova and Titan).
NESTED = ("generationConfig", "inferenceConfig", "textGenerationConfig")
URL_KEYS = ("apiBaseUrl", "apiHost", "baseUrl", "baseURL", "base_url")
# Options model_id reads to choose the model and its endpoint, by our provider: only these
# are taken as converted; the same names on another provider are listed.
READ_BY_MODEL_ID: dict[str, set[str]] = {
    "openai-compatible": {"workspaceUrl", "apiEndpoint", "chatCompletion"},
    "huggingface": {"apiEndpoint", "chatCompletion"},
    "watsonx": {"serviceUrl", "modelId"},
}
# promptfoo's watsonx options → the text-generation API's names (projectId sits beside them).
WATSONX = {
    "projectId": "project_id",
    "maxNewTokens": "max_new_tokens",
    "minNewTokens": "min_new_tokens",
    "decodingMethod": "decoding_method",
    "randomSeed": "random_seed",
    "stopSequences": "stop_sequences",
    "temperature": "temperature",
    "timeLimit": "time_limit",
    "topK": "top_k",
    "topP": "top_p",
    "repetitionPenalty": "repetition_penalty",
    "truncateInputTokens": "truncate_input_tokens",
    "includeStopSequence": "include_stop_sequence",
}
# The generation options promptfoo's Hugging Face text-generation provider sends (it drops
# any other key of the config).
HF_TEXT_GENERATION = {
    "top_k",
    "top_p",
    "temperature",
    "repetition_penalty",
    "max_new_tokens",
    "max_time",
    "return_full_text",
    "num_return_sequences",
    "do_sample",
    "use_cache",
    "wait_for_model",
}
KEY_KEYS = {"apiKey", "apiKeyEnvar", "api_key", "apiKeyEnvVar"}
# Options that change nothing in what is sent or tested.
HARMLESS = {
    "delay",
    "cost",
    "showThinking",
    "timeout",
    "maxRetries",
    "cache",
    "verbose",
    "passthrough_headers",
    "organization",
    "region_name",
    "region",  # Bedrock: said in a note (AWS_REGION)
}


@dataclass
class Mapped:
    """What one promptfoo provider became."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    left: list[tuple[str, str, str]] = field(default_factory=list)  # (key, what, why)
    endpoint: dict[str, Any] | None = None  # an http endpoint file to write
    schema: dict[str, Any] | None = None  # response_format's JSON Schema
    script: Path | None = None  # a Python provider's file, to copy into the project


def _compatible(model: str, url: str, key_env: str, label: str) -> Mapped:
    url = url.rstrip("/")
    m = Mapped(f"openai-compatible:{model}@{url}")
    if key_env:
        m.notes.append(
            f"'{label}' runs as openai-compatible at {url}: prompteur sends a key only to an "
            f'endpoint the project names, so add "{url}" under [security] endpoints in '
            f"prompteur.toml (or set base_url under [providers.openai-compatible]) and put your "
            f'{key_env} in OPENAI_COMPATIBLE_API_KEY (or set api_key_env = "{key_env}")'
        )
    return m


def _azure(deployment: str, conf: dict[str, Any], label: str) -> Mapped:
    """An Azure OpenAI deployment: its resource from `apiHost` (promptfoo's), else from the
    project or AZURE_OPENAI_ENDPOINT when the suite runs."""
    host = conf.get("apiHost") or conf.get("apiBaseUrl")
    if isinstance(host, str) and host:
        url = host if "://" in host else f"https://{host}"
        m = Mapped(f"azure_openai:{deployment}@{url.rstrip('/')}")
        m.notes.append(
            f"'{label}' runs as azure_openai at {url}: prompteur sends a key only to an "
            f'endpoint the project names, so add "{url}" under [security] endpoints in '
            "prompteur.toml, and set AZURE_OPENAI_API_KEY (promptfoo's AZURE_API_KEY) or "
            "AZURE_OPENAI_AD_TOKEN"
        )
        return m
    m = Mapped(f"azure_openai:{deployment}")
    m.notes.append(
        f"'{label}': set AZURE_OPENAI_ENDPOINT (or base_url under [providers.azure_openai]) "
        "and AZURE_OPENAI_API_KEY"
    )
    return m


def model_id(pf_id: str, conf: dict[str, Any], base: Path) -> Mapped:
    """Our model for a promptfoo provider id and its config; raises Unsupported with the
    reason, in promptfoo's words."""
    pf_id = pf_id.strip()
    url = next((conf[k] for k in URL_KEYS if isinstance(conf.get(k), str) and conf[k]), None)
    if pf_id == "echo":
        return Mapped("echo")
    for prefix, why in NOT_CHAT.items():
        if pf_id.startswith(prefix):
            raise Unsupported(f"{why}: prompteur tests chat models")
    if pf_id.startswith(("http:", "https:", "http", "https")) and (
        pf_id in ("http", "https") or "://" in pf_id
    ):
        raise Unsupported("an HTTP endpoint is converted from its config (url, method, body)")
    if pf_id.startswith("file://") or pf_id.startswith("python:"):
        path, fn = split_function(pf_id.removeprefix("python:"))
        suffix = Path(strip_file(path)).suffix
        if suffix == ".py":
            target = (base / strip_file(path)).resolve()
            if not target.is_file():
                raise Unsupported(f"file not found: {target}")
            m = Mapped("", script=target)
            m.model = f"script:{target}:{fn or 'call_api'}"
            return m
        if suffix in {".js", ".ts", ".mjs", ".cjs"}:
            raise Unsupported(
                "a JavaScript provider class runs under Node.js (its modules, files and network); "
                "prompteur runs Python providers (call_api), or wrap it as an http endpoint"
            )
        raise Unsupported("a provider file must be Python (.py) here")
    if pf_id.startswith("adaline:"):
        parts = pf_id.split(":")
        if len(parts) >= 4 and parts[2] in ("chat", "completion"):
            inner = ADALINE.get(parts[1])
            model = ":".join(parts[3:])
            if inner in ("openai", "anthropic", "gemini", "mistral", "ollama"):
                m = Mapped(f"{inner}:{model}")
                m.notes.append(
                    f"'{pf_id}': the Adaline gateway's {parts[1]} model is called directly "
                    f"as {inner}:{model}"
                )
                return m
            if inner == "azure":
                return _azure(model, conf, pf_id)
            if inner and f"{inner}:" in COMPATIBLE:
                base_url, key = COMPATIBLE[f"{inner}:"]
                return _compatible(model, base_url, key, pf_id)
        raise Unsupported(
            "no prompteur provider for this Adaline model (openai, anthropic, google, "
            "mistral, ollama, groq, together-ai and open-router map)"
        )
    for prefix, (base_url, key) in COMPATIBLE.items():
        if pf_id.startswith(prefix) and len(pf_id) > len(prefix):
            model = pf_id[len(prefix) :]
            if model.startswith(("embedding:", "embeddings:")):
                raise Unsupported(
                    "an embedding model, not a chat model: prompteur tests chat models"
                )
            return _compatible(model.removeprefix("chat:"), url or base_url, key, pf_id)
    if pf_id.startswith("databricks:") and len(pf_id) > len("databricks:"):
        # Mosaic AI serving endpoints speak OpenAI's API under the workspace's URL.
        workspace = conf.get("workspaceUrl") or os.environ.get("DATABRICKS_WORKSPACE_URL")
        if not isinstance(workspace, str) or not workspace.startswith(("https://", "http://")):
            raise Unsupported(
                "a Databricks endpoint needs its workspace: set config.workspaceUrl (or "
                "DATABRICKS_WORKSPACE_URL when you import)"
            )
        endpoint = workspace.rstrip("/") + "/serving-endpoints"
        return _compatible(pf_id[len("databricks:") :], endpoint, "DATABRICKS_TOKEN", pf_id)
    for prefix, provider in NATIVE.items():
        if pf_id.startswith(prefix) and len(pf_id) > len(prefix):
            model = pf_id[len(prefix) :]
            if url:
                return _compatible(model, url, "", pf_id)
            if provider == "gemini" and ":" in model:  # vertex:chat-bison:… forms
                model = model.rsplit(":", 1)[-1]
            m = Mapped(f"{provider}:{model}")
            if prefix == "openai:responses:":
                m.notes.append(
                    f"'{pf_id}' is called through chat completions (the same model; no "
                    "Responses-only tools)"
                )
            if prefix.startswith("vertex"):
                m.notes.append(f"'{pf_id}': the Vertex AI model is called through Gemini's API")
            return m
    kind = pf_id.split(":", 1)[0]
    if pf_id.startswith("huggingface:text-generation:"):
        model = pf_id[len("huggingface:text-generation:") :]
        endpoint = conf.get("apiEndpoint")
        chat = conf.get("chatCompletion")
        if chat is None:  # promptfoo's rule: an endpoint under /v1/chat speaks chat
            chat = isinstance(endpoint, str) and "/v1/chat" in endpoint
        if chat:
            base = endpoint.split("/chat/completions")[0] if isinstance(endpoint, str) else ""
            return _compatible(model, base or "https://router.huggingface.co/v1", "HF_TOKEN", pf_id)
        if isinstance(endpoint, str) and endpoint:
            if not endpoint.startswith(("https://", "http://")):
                raise Unsupported("config.apiEndpoint must be an http(s) URL")
            m = Mapped(f"huggingface:{model}@{endpoint}")
            m.notes.append(
                f"'{pf_id}' runs on its endpoint {endpoint}: prompteur sends a key only to an "
                f'endpoint the project names, so add "{endpoint}" under [security] endpoints '
                "in prompteur.toml, and set HF_TOKEN (promptfoo also reads HF_API_TOKEN)"
            )
            return m
        m = Mapped(f"huggingface:{model}")
        m.notes.append(f"'{pf_id}': set HF_TOKEN (promptfoo also reads HF_API_TOKEN)")
        return m
    if kind == "watsonx":
        model = conf.get("modelId") or pf_id[len("watsonx:") :]
        if not isinstance(model, str) or not model:
            raise Unsupported("a watsonx provider names its model: watsonx:MODEL_ID")
        m = Mapped(f"watsonx:{model}")
        service = conf.get("serviceUrl")
        if isinstance(service, str) and service.rstrip("/") != "https://us-south.ml.cloud.ibm.com":
            m.notes.append(
                f"'{pf_id}' runs at {service}: set base_url = \"{service}\" under "
                "[providers.watsonx] in prompteur.toml"
            )
        m.notes.append(
            f"'{pf_id}': set WATSONX_AI_APIKEY (or WATSONX_AI_BEARER_TOKEN)"
            + ("" if conf.get("projectId") else " and WATSONX_AI_PROJECT_ID")
        )
        return m
    if kind == "replicate":
        rest = pf_id[len("replicate:") :]
        for sub in ("image:", "moderation:"):
            if rest.startswith(sub):
                raise Unsupported(f"Replicate's {sub[:-1]} models: prompteur tests chat models")
        if "/" not in rest.partition(":")[0]:
            raise Unsupported("a Replicate model is replicate:OWNER/NAME[:VERSION]")
        m = Mapped(f"replicate:{rest}")
        m.notes.append(
            f"'{pf_id}': set REPLICATE_API_TOKEN (promptfoo also reads REPLICATE_API_KEY)"
        )
        return m
    if kind == "bedrock":
        rest = pf_id[len("bedrock:") :]
        if rest.startswith(("kb:", "agents:", "agent:")) or "nova-sonic" in rest:
            raise Unsupported("a Bedrock knowledge base, agent or speech model, not a chat model")
        if rest.startswith(("converse:", "completion:")):
            rest = rest.split(":", 1)[1]
        m = Mapped(f"bedrock:{rest}")
        region = conf.get("region")
        if isinstance(region, str):
            m.notes.append(f"'{pf_id}' is in region {region}: set AWS_REGION={region}")
        return m
    if kind in ("azure", "azureopenai"):
        parts = pf_id.split(":")
        if len(parts) < 3 or parts[1] != "chat":
            raise Unsupported(
                f"Azure's {parts[1] if len(parts) > 1 else ''} API: prompteur calls Azure "
                "OpenAI's chat completions (azure:chat:DEPLOYMENT)"
            )
        return _azure(":".join(parts[2:]), conf, pf_id)
    if kind in CODE_KINDS:
        raise Unsupported(f"a '{kind}' provider runs programs or services prompteur does not")
    if kind in SERVICES:
        raise Unsupported(
            f"no prompteur provider for {SERVICES[kind]}; put it behind an OpenAI-compatible "
            "gateway (a LiteLLM proxy, for instance) and use openai-compatible:MODEL@URL"
        )
    raise Unsupported(
        "no matching prompteur provider (openai, anthropic, mistral, gemini, ollama, or an "
        "OpenAI-compatible endpoint given as config.apiBaseUrl)"
    )


def http_endpoint(conf: dict[str, Any]) -> dict[str, Any]:
    """promptfoo's http provider config → our endpoint file (see models/endpoint.py)."""
    from ...models.endpoint import EndpointSpec

    if not isinstance(conf.get("url"), str) and not isinstance(conf.get("request"), str):
        raise Unsupported("an http provider needs config.url")
    if conf.get("request"):
        raise Unsupported(
            "a raw HTTP request (config.request) is not converted; give url, "
            "method, headers and body"
        )
    data: dict[str, Any] = {"url": conf["url"]}
    for key in (
        "method",
        "headers",
        "body",
        "queryParams",
        "transformResponse",
        "transformRequest",
        "responsePath",
        "validateStatus",
    ):
        if key in conf:
            data[key] = conf[key]
    for key in (
        "sessionParser",
        "auth",
        "signatureAuth",
        "tls",
        "session",
        "tokenEstimation",
        "useHttps",
        "maxRetries",
    ):
        if key in conf:
            raise Unsupported(f"http provider option {key} is not converted")
    for key in ("transformResponse", "transformRequest"):
        transform = data.get(key)
        if isinstance(transform, str) and transform.startswith("file://"):
            raise Unsupported(f"a {key} file is not converted; write it inline")
    EndpointSpec.model_validate(data)  # what we write must load
    return data


def gemini_tools(tools: Any) -> list[dict[str, Any]] | None:
    """Gemini's native `tools` ([{functionDeclarations: [...]}]) in the OpenAI format its
    OpenAI-compatible API reads; None when a tool is not a function (Google Search, code
    execution…), which that API does not take."""
    if isinstance(tools, dict):  # promptfoo also takes a single tool object
        tools = [tools]
    if not isinstance(tools, list):
        return None
    out: list[dict[str, Any]] = []
    for tool in tools:
        if not isinstance(tool, dict):
            return None
        if tool.get("type") == "function":
            out.append(tool)
            continue
        decls = tool.get("functionDeclarations", tool.get("function_declarations"))
        if set(tool) - {"functionDeclarations", "function_declarations"} or not isinstance(
            decls, list
        ):
            return None
        out.extend({"type": "function", "function": d} for d in decls if isinstance(d, dict))
    return out


def gemini_tool_choice(config: Any) -> Any:
    """Gemini's `toolConfig.functionCallingConfig` as the OpenAI `tool_choice` its
    OpenAI-compatible API reads (AUTO → auto, ANY → required or the one allowed function,
    NONE → none); None when it says something else."""
    if not isinstance(config, dict):
        return None
    calling = config.get("functionCallingConfig", config.get("function_calling_config"))
    if not isinstance(calling, dict) or len(config) != 1:
        return None
    mode = str(calling.get("mode", "AUTO")).upper()
    allowed = calling.get("allowedFunctionNames", calling.get("allowed_function_names"))
    if mode == "ANY" and isinstance(allowed, list) and len(allowed) == 1:
        return {"type": "function", "function": {"name": str(allowed[0])}}
    if allowed and mode != "NONE":
        return None  # several allowed functions: no OpenAI equivalent
    return {"AUTO": "auto", "ANY": "required", "NONE": "none"}.get(mode)


def gemini_thinking(config: Any) -> dict[str, Any] | None:
    """Gemini's `thinkingConfig` where its OpenAI-compatible API reads it
    (`extra_body.google.thinking_config`, snake_case keys)."""
    if not isinstance(config, dict) or not config:
        return None
    names = {
        "thinkingBudget": "thinking_budget",
        "includeThoughts": "include_thoughts",
        "thinkingLevel": "thinking_level",
    }
    inner = {names.get(k, k): v for k, v in config.items()}
    if set(inner) - set(names.values()):
        return None
    return {"google": {"thinking_config": inner}}


def _body_option(provider: str, k: str, v: Any, extra: dict[str, Any]) -> bool:
    """Carry `k` as a provider option sent as it is; False when the provider's wire format
    has no place for it."""
    if provider == "watsonx" and k in WATSONX:
        extra[WATSONX[k]] = v
        return True
    if provider in VERBATIM or (provider == "huggingface" and k in HF_TEXT_GENERATION):
        extra[k] = v
        return True
    if provider == "gemini" and k == "tools":
        v = gemini_tools(v)
        if v is None:
            return False
    if provider == "gemini" and k in ("toolConfig", "tool_config"):
        choice = gemini_tool_choice(v)
        if choice is None:
            return False
        extra["tool_choice"] = choice
        return True
    if provider == "gemini" and k in ("thinkingConfig", "thinking_config"):
        thinking = gemini_thinking(v)
        if thinking is None:
            return False
        extra.setdefault("extra_body", {}).update(thinking)
        return True
    if provider == "bedrock" and k in BEDROCK_MODEL_FIELDS:
        extra.setdefault("additionalModelRequestFields", {})[k] = v
        return True
    if k == "passthrough" and isinstance(v, dict) and provider in BODY:
        extra.update(v)  # promptfoo spreads it into the request body
        return True
    if k in BODY.get(provider, ()):
        extra[k] = v
        return True
    return False


def params_of(
    conf: dict[str, Any], provider: str = "", *, nested: bool = False
) -> tuple[dict[str, Any], list[tuple[str, str]], list[str]]:
    """Sampling parameters, the options left (key, why), and notes. `provider` is ours
    (openai, anthropic, bedrock, script…): options its wire format takes as they are go into
    the parameters' `extra`."""
    params: dict[str, Any] = {}
    left: list[tuple[str, str]] = []
    notes: list[str] = []
    extra: dict[str, Any] = {}
    for k, v in conf.items():
        if holds_function(v):
            left.append(
                (
                    k,
                    "a JavaScript function of the config (promptfoo calls it while it "
                    "runs): prompteur's files hold data, not functions",
                )
            )
        elif (
            k in PARAMS and provider not in VERBATIM and provider not in ("huggingface", "watsonx")
        ):
            if v is None:
                continue
            params[PARAMS[k]] = [v] if PARAMS[k] == "stop" and isinstance(v, str) else v
        elif k in URL_KEYS or k in HARMLESS or k in READ_BY_MODEL_ID.get(provider, ()):
            continue
        elif k in SCHEMA_KEYS and (schema_of(k, v) or v in ("text", {"type": "text"})):
            continue  # plain text is the default; a schema is kept as output_schema
        elif k in MIME_KEYS and isinstance(v, str) and v in ("text/plain", "application/json"):
            continue  # JSON without a schema is kept as output_schema {type: object}
        elif k in NESTED and isinstance(v, dict) and provider not in VERBATIM:
            inner, rest, more = params_of(v, provider, nested=True)
            inner_extra = inner.pop("extra", None)
            params.update(inner)
            if inner_extra:
                extra.update(inner_extra)
            left.extend((f"{k}.{key}", why) for key, why in rest)
            notes.extend(more)
        elif k in KEY_KEYS:
            notes.append(
                f"config.{k}: keys are read from environment variables only (the key in the "
                "config was not copied; set the provider's key variable)"
            )
        elif not _body_option(provider, k, v, extra):
            left.append((k, f"provider option '{k}' has no equivalent in a prompteur prompt"))
    if provider == "watsonx" and not nested:
        extra.setdefault("max_new_tokens", 100)  # promptfoo's default, sent every time
    if extra:
        params["extra"] = extra
    return params, left, notes


def schema_in(conf: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The output schema a provider config asks for, at its top level or in Gemini's
    `generationConfig`: (where, schema), or None. A JSON mime type without a schema asks
    for some JSON object."""
    places = [("", conf)] + [(f"{k}.", conf[k]) for k in NESTED if isinstance(conf.get(k), dict)]
    for prefix, where in places:
        for key in SCHEMA_KEYS:
            if key in where and (schema := schema_of(key, where[key])):
                return prefix + key, schema
    for prefix, where in places:
        for key in MIME_KEYS:
            if where.get(key) == "application/json":
                return prefix + key, {"type": "object"}
    return None


def schema_of(key: str, value: Any) -> dict[str, Any] | None:
    """The JSON Schema a provider is asked to follow (`response_format` json_schema, Gemini's
    `responseSchema`), or None."""
    if key in ("responseSchema", "response_schema") and isinstance(value, dict):
        return value
    if isinstance(value, dict):
        inner = value.get("json_schema") or value.get("jsonSchema")
        if isinstance(inner, dict) and isinstance(inner.get("schema"), dict):
            return inner["schema"]
        if isinstance(value.get("schema"), dict):
            return value["schema"]
        if value.get("type") in ("json_object", "json"):
            return {"type": "object"}
    if key == "responseFormat" and isinstance(value, str) and "json" in value.lower():
        return {"type": "object"}
    return None
