"""DSPy baseline for the optimizer benchmark (issue 4): BootstrapFewShotWithRandomSearch and
MIPROv2 on the embedded model (Gemma 3 270M base, GGUF) through llama.cpp's OpenAI-compatible
server, with a hard budget on task-model calls.

Runs in its own venv (benchmarks/.peers/dspy, see README-dspy.md), not in prompteur's:

    benchmarks/.peers/dspy/bin/python benchmarks/optimizer/dspy_baseline.py \\
        --tasks sentiment --seeds 0 --budgets 300 --optimizers bfrs --limit-test 20

Without ``--server`` it starts ``python -m llama_cpp.server`` itself (prompteur's venv has
llama-cpp-python with the server extras) on a free port and stops it at the end.

Accounting: every HTTP request DSPy sends is counted at DSPy's lowest request level, by role —
``task`` (the task model, in the optimizer), ``proposer`` (MIPROv2's prompt model; the same
model, counted separately, not in the budget) and ``eval`` (the test evaluation, not in the
budget). DSPy's caches are off, so nothing is served without a request. When the task-model
budget is spent the next task call raises ``BudgetExhausted`` (a BaseException, so DSPy's error
handlers do not swallow it); the optimizer stops and the best program among its completed
full-validation-set evaluations is taken, as DSPy itself would select it.

Output: one JSON line per (task, seed, budget, optimizer) appended to results/dspy.jsonl;
entries already there are skipped, so a run resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ape  # noqa: E402

ROOT = HERE.parent.parent
RESULTS = HERE / "results"
DEFAULT_OUT = RESULTS / "dspy.jsonl"
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"

OPTIMIZERS = ("bfrs", "mipro")
# A reply DSPy cannot parse is an error; DSPy's default (10) cancels the whole evaluation on the
# tenth, which on this model happens in every zero-shot evaluation. Count them as failures.
MAX_ERRORS = 1_000_000
MIPRO_PROPOSERS = {
    "full": {},
    "minimal": {
        "program_aware_proposer": False,
        "data_aware_proposer": False,
        "tip_aware_proposer": False,
        "fewshot_aware_proposer": False,
    },
}  # "labeled" (LabeledFewShot k=4, no search) is a probe


class BudgetExhausted(BaseException):
    """The task-model budget is spent (BaseException: DSPy's `except Exception` lets it pass)."""


# --------------------------------------------------------------------------------------------
# Server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_model_path() -> str:
    """The GGUF prompteur assembles from its model package (asked of prompteur's venv)."""
    code = "from prompteur.models.local import embedded_model_path; print(embedded_model_path())"
    out = subprocess.run([str(MAIN_PYTHON), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def start_server(
    python: str, model: str, chat_format: str, threads: int | None, log: Path
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [python, "-m", "llama_cpp.server", "--model", model, "--n_ctx", "4096"]
    cmd += ["--port", str(port), "--host", "127.0.0.1", "--chat_format", chat_format]
    if threads:
        cmd += ["--n_threads", str(threads)]
    fh = open(log, "ab")  # noqa: SIM115 - owned by the server process for its life
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(240):
        if proc.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {proc.returncode}; see {log}")
        try:
            urllib.request.urlopen(f"{base}/models", timeout=2).read()
            return proc, base
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("llama.cpp server did not start in 120 s")


class Server:
    """The llama.cpp server: an external one (--server), or one started and restarted here."""

    def __init__(self, args) -> None:
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.base = args.server
        self.model = None if args.server else (args.model or embedded_model_path())

    def alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"{self.base}/models", timeout=10).read()
            return True
        except OSError:
            return False

    def ensure(self) -> str:
        if self.base and self.alive():
            return self.base
        if self.args.server:
            raise RuntimeError(f"the server {self.args.server} does not answer")
        self.stop()
        a = self.args
        log = RESULTS / "server.log"
        self.proc, self.base = start_server(
            a.server_python, self.model, a.chat_format, a.threads, log
        )
        print(f"server {self.base} pid {self.proc.pid}", flush=True)
        return self.base

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


def complete_plain(base: str, prompt: str, max_tokens: int = 30) -> str:
    """Greedy completion through the server's /v1/completions (the plain-rendering path)."""
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stop": ["\n"]}
    req = urllib.request.Request(
        f"{base}/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.load(resp)["choices"][0]["text"]


# --------------------------------------------------------------------------------------------
# Accounting and best-so-far tracking (patches on DSPy internals, checked against 3.4.1)


class Ledger:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.budget: int | None = None  # on role "task"
        self.evaluations: list[tuple[int, float, int, object]] = []  # (n, score, order, program)

    def reset(self, budget: int | None) -> None:
        self.calls = {}
        self.budget = budget
        self.evaluations = []

    def charge(self, role: str) -> None:
        used = self.calls.get(role, 0)
        if role == "task" and self.budget is not None and used >= self.budget:
            raise BudgetExhausted(f"task-model budget of {self.budget} calls spent")
        self.calls[role] = used + 1


LEDGER = Ledger()


def install_patches() -> None:
    import dspy
    from dspy.clients import execution
    from dspy.evaluate import evaluate as evaluate_mod

    attempt, aattempt = execution._attempt, execution._aattempt

    def counted_attempt(lm, *args, **kwargs):
        LEDGER.charge(getattr(lm, "_bench_role", "other"))
        return attempt(lm, *args, **kwargs)

    async def counted_aattempt(lm, *args, **kwargs):
        LEDGER.charge(getattr(lm, "_bench_role", "other"))
        return await aattempt(lm, *args, **kwargs)

    execution._attempt, execution._aattempt = counted_attempt, counted_aattempt

    call = evaluate_mod.Evaluate.__call__

    def tracked_call(self, program, metric=None, devset=None, *args, **kwargs):
        result = call(self, program, metric, devset, *args, **kwargs)
        n = len(devset if devset is not None else self.devset)
        LEDGER.evaluations.append((n, float(result.score), len(LEDGER.evaluations), program))
        return result

    evaluate_mod.Evaluate.__call__ = tracked_call
    dspy.Evaluate.__call__ = tracked_call


def best_so_far(n_val: int):
    """DSPy's own choice among completed full-validation evaluations: highest score, first."""
    full = [e for e in LEDGER.evaluations if e[0] == n_val]
    if not full:
        return None, None
    _n, score, _, program = max(full, key=lambda e: (e[1], -e[2]))
    return program, score


# --------------------------------------------------------------------------------------------
# One configuration


def make_lm(args, base: str, role: str, temperature: float, max_tokens: int, mode: str):
    import dspy

    kwargs = {}
    if args.stop_completed:
        kwargs["stop"] = ["[[ ## completed ## ]]"]
    lm = dspy.LM(
        "openai/gemma-3-270m",
        api_base=base,
        api_key="none",
        model_type=mode,
        cache=False,
        temperature=temperature,
        max_tokens=max_tokens,
        num_retries=0,
        # The default lm15 engine sends `max_completion_tokens`, which llama-cpp-python's
        # server (0.3.x) ignores: generation then runs to the end of the context. The LiteLLM
        # engine sends `max_tokens` (and `response_format` for the JSON fallback).
        engine="litellm",
        **kwargs,
    )
    lm._bench_role = role  # copies (lm.copy / __copy__) keep it: they copy __dict__
    return lm


def make_adapter(args):
    import dspy

    if args.adapter == "chat":
        return dspy.ChatAdapter(use_json_adapter_fallback=args.json_fallback)
    if args.adapter == "json":
        return dspy.JSONAdapter()
    if args.adapter == "xml":
        return dspy.XMLAdapter()
    raise ValueError(args.adapter)


def to_dspy(examples):
    import dspy

    return [
        dspy.Example(input=e.input, output=e.output, accepted=list(e.accepted)).with_inputs("input")
        for e in examples
    ]


def metric(example, prediction, trace=None):
    accepted = tuple(example.accepted)
    target = ape.Example(example.input, example.output, accepted)
    return ape.score(str(getattr(prediction, "output", "") or ""), target)


def plan(optimizer: str, budget: int) -> dict:
    """DSPy parameters for a budget.

    BFRS is random search: it gets DSPy's default 16 candidates and runs until the budget stops
    it (zero-shot and labeled-only cost |val| each, every bootstrapped candidate up to 50 train
    calls + |val|), which spends the whole budget, as our random search does. MIPROv2 is sized
    to fit its worst case; the hard stop is then only a safety net.
    """
    if optimizer == "bfrs":
        return {"n_val": 50 if budget <= 300 else 100, "num_candidate_programs": 16}
    if optimizer == "mipro":
        if budget <= 300:
            # <= 2 bootstrapped sets x 50 + default eval 50 + 5 x 20 minibatch + final eval 50
            return {
                "n_val": 50,
                "num_candidates": 4,
                "num_trials": 5,
                "minibatch_size": 20,
                "minibatch_full_eval_steps": 5,
            }
        # <= 6 x 50 + 100 + 16 x 25 + 2 x 100
        return {
            "n_val": 100,
            "num_candidates": 8,
            "num_trials": 16,
            "minibatch_size": 25,
            "minibatch_full_eval_steps": 8,
        }
    if optimizer == "labeled":
        return {"n_val": 0}
    raise ValueError(optimizer)


def extract(program) -> tuple[str, list[dict]]:
    predictor = program.predictors()[0]
    demos = []
    for d in predictor.demos:
        get = d.get if hasattr(d, "get") else (lambda k, _d=d: getattr(_d, k, None))
        demos.append({"input": str(get("input")), "output": str(get("output"))})
    return predictor.signature.instructions, demos


def run_one(args, base: str, task_name: str, seed: int, budget: int, optimizer: str) -> dict:
    import dspy

    task = ape.load_task(task_name, seed)
    test = task.test[: args.limit_test] if args.limit_test else task.test
    task_lm = make_lm(args, base, "task", 0.0, args.max_tokens, args.mode)
    prompt_lm = make_lm(args, base, "proposer", 1.0, 400, args.proposer_mode or args.mode)
    dspy.configure(
        lm=task_lm,
        adapter=make_adapter(args),
        num_threads=1,
        max_history_size=50,
        max_errors=MAX_ERRORS,
    )

    signature = dspy.Signature("input -> output", task.human_instruction)
    student = dspy.Predict(signature)
    trainset, devset = to_dspy(task.train), to_dspy(task.dev)
    p = plan(optimizer, budget)
    valset = devset[: p["n_val"]]
    record: dict = {"task": task_name, "seed": seed, "budget": budget, "optimizer": optimizer}
    record["config"] = {
        **p,
        "mode": args.mode,
        "adapter": args.adapter,
        "json_fallback": args.json_fallback,
        "max_tokens": args.max_tokens,
        "stop_completed": args.stop_completed,
        "engine": "litellm",
        "mipro_proposer": args.mipro_proposer,
        "proposer_mode": args.proposer_mode or args.mode,
        "dspy": dspy.__version__,
    }

    LEDGER.reset(budget)
    t0 = time.time()
    program, error, cut_off, selected = None, None, False, "optimizer"
    try:
        if optimizer == "bfrs":
            opt = dspy.BootstrapFewShotWithRandomSearch(
                metric=metric,
                max_bootstrapped_demos=4,
                max_labeled_demos=4,
                num_candidate_programs=p["num_candidate_programs"],
                num_threads=1,
                max_errors=MAX_ERRORS,
            )
            program = opt.compile(student, trainset=trainset, valset=valset)
        elif optimizer == "mipro":
            opt = dspy.MIPROv2(
                metric=metric,
                prompt_model=prompt_lm,
                task_model=task_lm,
                auto=None,
                num_candidates=p["num_candidates"],
                max_bootstrapped_demos=4,
                max_labeled_demos=4,
                num_threads=1,
                max_errors=MAX_ERRORS,
                seed=seed,
                verbose=False,
            )
            program = opt.compile(
                student,
                trainset=trainset,
                valset=valset,
                num_trials=p["num_trials"],
                minibatch=True,
                minibatch_size=p["minibatch_size"],
                minibatch_full_eval_steps=p["minibatch_full_eval_steps"],
                **MIPRO_PROPOSERS[args.mipro_proposer],
            )
        else:  # labeled: the human instruction with 4 labelled demos, no search
            program = dspy.LabeledFewShot(k=4).compile(student, trainset=trainset)
    except BudgetExhausted:
        cut_off = True
        program, _ = best_so_far(len(valset))
        selected = "best full-validation evaluation before the budget stop"
        if program is None:
            program, selected = student, "student (no full evaluation within budget)"
    except Exception as exc:  # recorded, not hidden
        error = f"{type(exc).__name__}: {exc}"[:2000]
        record["traceback"] = traceback.format_exc()[-4000:]
    record["wall_s"] = round(time.time() - t0, 1)
    record["calls"] = LEDGER.calls.get("task", 0)
    record["proposer_calls"] = LEDGER.calls.get("proposer", 0)
    record["cut_off"] = cut_off
    record["selected"] = selected
    _, record["dev_score"] = best_so_far(len(valset)) if valset else (None, None)
    if program is not None and not cut_off and valset:
        # the score DSPy saw for the program it returned, when it evaluated it on the full set
        inst, demos = extract(program)
        same = [
            e for e in LEDGER.evaluations if e[0] == len(valset) and extract(e[3]) == (inst, demos)
        ]
        record["dev_score"] = same[-1][1] if same else None
    record["error"] = error
    if program is None:
        record.update(
            instruction=None,
            demos=[],
            test_acc_dspy=None,
            test_per_example_dspy=[],
            test_acc_plain=None,
            test_per_example_plain=[],
        )
        return record

    instruction, demos = extract(program)
    record["instruction"], record["demos"] = instruction, demos
    LEDGER.budget = None
    t1 = time.time()
    per_dspy, eval_errors = [], 0
    for ex in to_dspy(test):
        task_lm._bench_role = "eval"
        try:
            with dspy.context(lm=task_lm):
                pred = program(input=ex.input)
            per_dspy.append(int(metric(ex, pred)))
        except Exception:
            eval_errors += 1
            per_dspy.append(0)
    task_lm._bench_role = "task"
    record["test_acc_dspy"] = sum(per_dspy) / len(per_dspy)
    record["test_per_example_dspy"] = per_dspy
    record["test_errors_dspy"] = eval_errors
    record["eval_calls_dspy"] = LEDGER.calls.get("eval", 0)
    demo_objs = [ape.Example(d["input"], d["output"], (d["output"],)) for d in demos]
    per_plain = []
    for ex in test:
        out = complete_plain(base, ape.render_plain(instruction, demo_objs, ex.input))
        per_plain.append(int(ape.score(out, ex)))
    record["test_acc_plain"] = sum(per_plain) / len(per_plain)
    record["test_per_example_plain"] = per_plain
    record["n_test"] = len(test)
    record["eval_wall_s"] = round(time.time() - t1, 1)
    return record


# --------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tasks", default=",".join(ape.TASKS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--budgets", default="300,1000")
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--limit-test", type=int, default=0, help="evaluate on the first N test cases")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--server", help="an already running server's base URL (…/v1)")
    ap.add_argument("--server-python", default=str(MAIN_PYTHON))
    ap.add_argument("--model", help="GGUF path (default: prompteur's embedded model)")
    ap.add_argument("--chat-format", default="gemma", help="llama.cpp server chat format")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--mode", choices=("chat", "text"), default="chat", help="dspy.LM model_type")
    ap.add_argument("--adapter", choices=("chat", "json", "xml"), default="chat")
    ap.add_argument("--json-fallback", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--stop-completed", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--proposer-mode", choices=("chat", "text"), help="default: --mode")
    ap.add_argument(
        "--mipro-proposer",
        choices=sorted(MIPRO_PROPOSERS),
        default="full",
        help="MIPROv2's grounded proposer: DSPy's defaults, or every *_aware_proposer off",
    )
    args = ap.parse_args()

    import dspy

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    install_patches()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                done.add((r["task"], r["seed"], r["budget"], r["optimizer"]))

    server = Server(args)
    try:
        budgets = [int(b) for b in args.budgets.split(",")]
        seeds = [int(s) for s in args.seeds.split(",")]
        for budget in budgets:
            for seed in seeds:
                for task in args.tasks.split(","):
                    for optimizer in args.optimizers.split(","):
                        key = (task, seed, budget, optimizer)
                        if key in done:
                            continue
                        record = run_with_retries(args, server, task, seed, budget, optimizer)
                        with open(args.out, "a") as fh:
                            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                        print(
                            f"-> calls={record['calls']} proposer={record['proposer_calls']} "
                            f"wall={record['wall_s']}s cut={record['cut_off']} "
                            f"dev={record.get('dev_score')} dspy={record['test_acc_dspy']} "
                            f"plain={record['test_acc_plain']} error={record['error']}",
                            flush=True,
                        )
    finally:
        server.stop()


def run_with_retries(args, server: Server, task: str, seed: int, budget: int, optimizer: str):
    """One entry; if the server went away meanwhile (it has been killed from outside), restart
    it and run the entry again from the start, up to twice."""
    for _ in range(3):
        base = server.ensure()
        print(f"== {task} seed={seed} budget={budget} {optimizer} ({base})", flush=True)
        try:
            record = run_one(args, base, task, seed, budget, optimizer)
        except Exception as exc:  # the plain evaluation talks to the server directly
            record = {"error": f"{type(exc).__name__}: {exc}"}
        if server.alive() and "calls" in record:
            return record
        print(f"server lost during the entry ({record.get('error')}); retrying", flush=True)
    raise RuntimeError(f"the server keeps failing: {record.get('error')}")


if __name__ == "__main__":
    main()
