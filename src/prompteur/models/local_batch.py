"""Batched greedy generation for the embedded model: many requests, one llama.cpp context.

Concurrent greedy requests are queued; a scheduler thread takes what is pending, groups it by
shared token prefix (same prompt, same few-shot block), and serves the whole set in one pass:

1. each group's common prefix is made resident in a *holder* sequence — only the tokens the
   holder does not already hold are decoded (prefixes stay resident across batches, so a
   few-shot block is decoded once per run, not once per call);
2. the prefix is copied to each request's own sequence (`llama_memory_seq_cp`: in the unified
   KV cache this only tags the cells, nothing is recomputed) and every request's suffix is
   decoded in one batch;
3. generation runs one `llama_batch` per step holding one token per live sequence, greedy
   (argmax of each sequence's logits), each request stopping on EOG, a stop string or its
   max_tokens; its sequence is then removed.

Sequence ids: 0 .. HOLDERS-1 hold prefixes (0 is also the sequence `Llama.generate` uses, so
the sequential path and the batch path share its prefix), HOLDERS .. HOLDERS+SLOTS-1 serve
requests. The context must be created with `n_seq_max = HOLDERS + SLOTS` and a unified KV cache.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .local_grammar import GrammarConstraint
    from .structured import OutputSchema

HOLDERS = 4
SLOTS = 16
N_SEQ_MAX = HOLDERS + SLOTS
MIN_SHARED = 8  # tokens in common for two requests to share a prefix
MIN_GAIN = 16  # extra tokens in common for a group to split into sub-groups
MAX_LOOK = 256  # pending jobs considered for one batch (the oldest)
GATHER_S = 0.004  # after a batch, how long to wait for the callers to send the next requests


@dataclass
class Job:
    tokens: list[int]
    stops: list[str]
    max_tokens: int
    output: OutputSchema | None = None  # decode under this schema's grammar
    future: concurrent.futures.Future[tuple[str, str, int]] = field(
        default_factory=concurrent.futures.Future
    )
    submitted: float = field(default_factory=time.perf_counter)
    # When a batch took the job, and when its answer was complete: the model's time is the
    # difference, the time before it was spent waiting in the queue.
    started: float | None = None
    finished: float | None = None


class TokenText:
    """Generated tokens to text: incremental UTF-8 decoding and stop strings."""

    def __init__(self, llama: Any, stops: list[str]) -> None:
        self.llama = llama
        self.stops = stops
        self.tokens: list[int] = []
        self.pending = b""
        self.text = ""

    def add(self, token: int) -> bool:
        """Append a token; True when a stop string appeared (the text is cut before it)."""
        self.tokens.append(token)
        self.pending += self.llama.detokenize([token], prev_tokens=self.tokens[:-1])
        try:
            self.text += self.pending.decode("utf-8")
            self.pending = b""
        except UnicodeDecodeError:
            if len(self.pending) < 8:
                return False  # an incomplete UTF-8 sequence: wait for the next token
            self.text += self.pending.decode("utf-8", errors="replace")
            self.pending = b""
        cut = first_stop(self.text, self.stops)
        if cut is not None:
            self.text = self.text[:cut]
            return True
        return False


def first_stop(text: str, stops: list[str]) -> int | None:
    positions = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(positions) if positions else None


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Batcher:
    """The scheduler of one llama.cpp context; `lock` serialises every use of that context."""

    def __init__(self, llama: Any, lock: threading.Lock) -> None:
        import llama_cpp

        self.llama = llama
        self.lock = lock
        self.ctx = llama._ctx.ctx
        self.mem = llama._ctx.memory
        self.n_ctx = llama.n_ctx()
        self.n_batch = llama.n_batch
        self.vocab = llama._model.vocab
        self.n_vocab = llama.n_vocab()
        self.n_swa = int(llama_cpp.llama_model_n_swa(llama._model.model))
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self.holders: list[list[int]] = [[] for _ in range(HOLDERS)]  # [0] mirrors llama
        self.holder_used = [0.0] * HOLDERS
        self.pending: list[Job] = []
        self.cond = threading.Condition()
        self.last_size = 0
        self.closed = False  # set when the context is freed (at exit)
        self.batches = 0  # counters, for tests and benchmarks
        self.batched_jobs = 0
        self.thread = threading.Thread(target=self._loop, name="prompteur-llama", daemon=True)
        self.thread.start()

    # -- the queue ---------------------------------------------------------------------------

    def submit(self, job: Job) -> concurrent.futures.Future[tuple[str, str, int]]:
        with self.cond:
            self.pending.append(job)
            self.cond.notify()
        return job.future

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self.pending:
                    self.cond.wait()
                # The callers of the batch that just finished are about to send their next
                # requests: give them a moment, so the next batch is as wide as the last one.
                deadline = time.perf_counter() + GATHER_S
                while len(self.pending) < min(self.last_size, SLOTS):
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        break
                    self.cond.wait(left)
            # Lock order: the context's lock, then the queue's (submit() takes the queue's only).
            with self.lock:
                if self.closed:
                    return
                with self.cond:
                    jobs = self._select()
                    taken = {id(j) for j in jobs}
                    self.pending = [j for j in self.pending if id(j) not in taken]
                self.last_size = len(jobs)
                try:
                    self._run(jobs)
                except Exception:  # the batch failed: serve its jobs one by one
                    self._reset()
                    for job in jobs:
                        if job.future.done():
                            continue
                        try:
                            self._run([job])
                        except Exception as exc:
                            self._reset()
                            if not job.future.done():
                                job.future.set_exception(exc)

    # -- choosing the batch ------------------------------------------------------------------

    def _groups(self, jobs: list[Job]) -> list[list[Job]]:
        """Split jobs into groups that share a token prefix worth sharing.

        Sorted by tokens, jobs with a long prefix in common are neighbours; a run of jobs is
        split where the prefix its parts share is MIN_GAIN tokens longer than the prefix the
        whole run shares (two prompts with the same instruction but different few-shot blocks
        become two groups; reviews that happen to start with the same word do not).
        Groups come oldest first, each with its jobs oldest first.
        """
        if not jobs:
            return []
        s = sorted(jobs, key=lambda j: j.tokens)
        lcps = [common_prefix(s[i].tokens, s[i + 1].tokens) for i in range(len(s) - 1)]
        out: list[list[Job]] = []

        def least(a: int, b: int) -> int | None:
            return min(lcps[a : b - 1]) if b - a > 1 else None

        def split(lo: int, hi: int) -> None:
            m = least(lo, hi)
            if m is None:
                out.append(s[lo:hi])
                return
            cuts = [lo + i + 1 for i, n in enumerate(lcps[lo : hi - 1]) if n == m]
            parts = list(zip([lo, *cuts], [*cuts, hi], strict=True))
            gains = [least(a, b) for a, b in parts]
            if m < MIN_SHARED or all(g is None or g - m >= MIN_GAIN for g in gains):
                for a, b in parts:
                    split(a, b)
            else:
                out.append(s[lo:hi])

        split(0, len(s))
        for g in out:
            g.sort(key=lambda j: j.submitted)
        out.sort(key=lambda g: g[0].submitted)
        return out

    def _select(self) -> list[Job]:
        """The oldest groups of pending jobs, within the slots and the KV cache."""
        self.holders[0] = list(self.llama.input_ids[: self.llama.n_tokens])
        budget = self.n_ctx - sum(len(h) for h in self.holders)
        chosen: list[Job] = []
        n_groups = 0
        for g in self._groups(self.pending[:MAX_LOOK]):  # in order of each group's oldest job
            if n_groups == HOLDERS:
                break
            took = False
            for job in g:
                need = len(job.tokens) + job.max_tokens
                if len(chosen) == SLOTS or need > budget:
                    continue
                chosen.append(job)
                budget -= need
                took = True
            n_groups += took
        if not chosen:  # the first job alone does not fit beside the resident prefixes
            self._reset()
            chosen = [self.pending[0]]
        return chosen

    # -- running it --------------------------------------------------------------------------

    def _reset(self) -> None:
        import llama_cpp

        llama_cpp.llama_memory_clear(self.mem, True)
        self.holders = [[] for _ in range(HOLDERS)]
        self.llama.n_tokens = 0
        self.llama._requires_eval = True

    def free_for_sequential(self, need: int) -> None:
        """Drop resident prefixes (but sequence 0's) when a sequential call needs the room."""
        import llama_cpp

        if need + sum(len(h) for h in self.holders) <= self.n_ctx:
            return
        for h in range(1, HOLDERS):
            llama_cpp.llama_memory_seq_rm(self.mem, h, -1, -1)
            self.holders[h] = []

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> list[Any]:
        """Decode (token, pos, seq, want_logits) items, n_batch at a time; returns the logits
        rows (numpy copies) of the items that asked for them, in order."""
        import llama_cpp
        import numpy as np

        out = []
        b = self.batch
        for start in range(0, len(items), self.n_batch):
            chunk = items[start : start + self.n_batch]
            rows = []
            for i, (tok, pos, seq, want) in enumerate(chunk):
                b.token[i] = tok
                b.pos[i] = pos
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = seq
                b.logits[i] = want
                if want:
                    rows.append(i)
            b.n_tokens = len(chunk)
            rc = llama_cpp.llama_decode(self.ctx, b)
            if rc != 0:
                raise RuntimeError(f"llama_decode returned {rc}")
            for i in rows:
                ptr = llama_cpp.llama_get_logits_ith(self.ctx, i)
                out.append(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy())
        return out

    def _place_prefix(self, prefix: list[int], busy: set[int]) -> tuple[int, int]:
        """Choose the holder sequence for `prefix`; returns (holder, tokens it already has)."""
        import llama_cpp

        free = [h for h in range(HOLDERS) if h not in busy]
        shared = {h: common_prefix(self.holders[h], prefix) for h in free}
        best = max(free, key=lambda h: (shared[h], -h))
        lcp = shared[best]
        if lcp == len(prefix):
            return best, lcp  # the holder holds it already (and maybe more): copy from it
        if lcp == len(self.holders[best]):
            self.holders[best] = prefix
            return best, lcp  # the holder holds a prefix of it: extend it
        # Keep what the best holder has; take an empty or the least recently used one.
        others = [h for h in free if h != best] or [best]
        target = min(others, key=lambda h: (len(self.holders[h]) > 0, self.holder_used[h]))
        # Once a holder has slid past the window of a sliding-window (iSWA) cache, its early
        # positions can no longer be copied or cut back to: start that prefix afresh.
        partial_ok = self.n_swa == 0 or len(self.holders[best]) <= self.n_swa
        if target == best:
            if not (partial_ok and llama_cpp.llama_memory_seq_rm(self.mem, best, lcp, -1)):
                llama_cpp.llama_memory_seq_rm(self.mem, best, -1, -1)
                lcp = 0
        else:
            llama_cpp.llama_memory_seq_rm(self.mem, target, -1, -1)
            if lcp and partial_ok:
                llama_cpp.llama_memory_seq_cp(self.mem, best, target, 0, lcp)
            else:
                lcp = 0
        self.holders[target] = prefix
        return target, lcp

    def _run(self, jobs: list[Job]) -> None:
        import llama_cpp

        llama = self.llama
        began = time.perf_counter()
        for job in jobs:
            if job.started is None:
                job.started = began
        self.holders[0] = list(llama.input_ids[: llama.n_tokens])
        groups = self._groups(jobs)
        busy: set[int] = set()
        plan = []  # (holder, prefix, jobs)
        prefill: list[tuple[int, int, int, bool]] = []
        for g in groups:
            n = min(len(j.tokens) for j in g) - 1  # every job keeps at least one token to decode
            for j in g[1:]:
                n = min(n, common_prefix(g[0].tokens, j.tokens))
            prefix = g[0].tokens[:n]
            holder, have = self._place_prefix(prefix, busy)
            busy.add(holder)
            prefill += [(prefix[p], p, holder, False) for p in range(have, n)]
            self.holder_used[holder] = time.perf_counter()
            plan.append((holder, prefix, g))
        slots = []
        try:
            if prefill:
                self._decode(prefill)
            if 0 in busy:  # keep Llama.generate's view of sequence 0 true
                llama.input_ids[: len(self.holders[0])] = self.holders[0]
                llama.n_tokens = len(self.holders[0])
                llama._requires_eval = True
            items = []
            seq = HOLDERS
            for holder, prefix, g in plan:
                for job in g:
                    llama_cpp.llama_memory_seq_rm(self.mem, seq, -1, -1)
                    if prefix:
                        llama_cpp.llama_memory_seq_cp(self.mem, holder, seq, 0, len(prefix))
                    n = len(prefix)
                    items += [(t, n + i, seq, False) for i, t in enumerate(job.tokens[n:])]
                    items[-1] = (*items[-1][:3], True)
                    slot = _Slot(job, seq, len(job.tokens), TokenText(llama, job.stops))
                    slots.append(slot)
                    if job.output is not None:
                        from .local_grammar import GrammarConstraint

                        slot.grammar = GrammarConstraint(llama, job.output)
                    seq += 1
            logits = self._decode(items)
            live = slots
            while True:
                step = []
                for slot, row in zip(live, logits, strict=True):
                    token = slot.choose(row)
                    if slot.accept(token, self.vocab):
                        slot.finish()
                        llama_cpp.llama_memory_seq_rm(self.mem, slot.seq, -1, -1)
                    else:
                        step.append(slot)
                live = step
                if not live:
                    break
                logits = self._decode([(s.text.tokens[-1], s.pos, s.seq, True) for s in live])
                for s in live:
                    s.pos += 1
        finally:
            for slot in slots:
                if slot.grammar is not None:
                    slot.grammar.close()
                if not slot.job.future.done():
                    llama_cpp.llama_memory_seq_rm(self.mem, slot.seq, -1, -1)
        self.batches += 1
        self.batched_jobs += len(jobs)


@dataclass
class _Slot:
    job: Job
    seq: int
    pos: int  # where the next token goes
    text: TokenText
    reason: str = "length"
    grammar: GrammarConstraint | None = None

    def choose(self, row: Any) -> int:
        """Greedy: the best token, or the best one the grammar allows (-1: none is)."""
        if self.grammar is None:
            import numpy as np

            return int(np.argmax(row))
        token = self.grammar.best(row)
        return -1 if token is None else token

    def accept(self, token: int, vocab: Any) -> bool:
        """Take the sampled token; True when this request is done."""
        from llama_cpp import llama_vocab_is_eog

        if token < 0 or llama_vocab_is_eog(vocab, token):
            self.reason = "stop"
            return True
        if self.grammar is not None:
            self.grammar.accept(token)
        if self.text.add(token):
            self.reason = "stop"
            return True
        return len(self.text.tokens) >= self.job.max_tokens

    def finish(self) -> None:
        t = self.text
        text = t.text + (t.pending.decode("utf-8", errors="replace") if t.pending else "")
        if t.pending and self.reason == "length":
            cut = first_stop(text, t.stops)
            if cut is not None:
                text, self.reason = text[:cut], "stop"
        self.job.finished = time.perf_counter()
        self.job.future.set_result((text, self.reason, len(t.tokens)))
