"""The systems fslm eval compares, named on the command line as NAME=KIND:TARGET[;key=value...]:

    stage:HOST:PORT      a running stage (StageService over gRPC)
    artifact:DIR         a stage artifact; fslm eval starts `fslm stage` on it for the run
    router:HOST:PORT     a running router (StackService); `;stack=NAME` when it serves several stacks
    stack:FILE           a stack definition; fslm eval starts `fslm up` on it for the run
    hf:DIR               lm-eval's own `hf` model on a Hugging Face directory (PyTorch, the cross-check)

Options: `chat=true` (stage, artifact: the context is the user turn of a chat, rendered with the model's
chat template; `system=TEXT` adds a system prompt), `threads=N` (artifact, stack: intra-op threads).

A backend scores continuations of a context (log-likelihood, greedy flag) and generates, and reports
what each call cost per stage (tokens, milliseconds measured by the stages, and the client's clock).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import processes
from .wire import EvalError, call, channel, generation_pb, stack_grpc, stack_pb, stage_grpc, stage_pb, stream

KINDS = ("stage", "artifact", "router", "stack", "hf")
MAX_CONTINUATIONS = 64
DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class SystemSpec:
    name: str
    kind: str
    target: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def chat(self) -> bool:
        return self.options.get("chat", "false").lower() in ("1", "true", "yes")

    @property
    def threads(self) -> int | None:
        value = self.options.get("threads")
        return int(value) if value else None


def parse_system(text: str) -> SystemSpec:
    """NAME=KIND:TARGET[;key=value...]; raises ValueError with what is wrong."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError(f"--system {text!r}: expected NAME=KIND:TARGET (NAME of letters, digits, -_.)")
    kind, sep, target = rest.partition(":")
    if not sep or kind not in KINDS:
        raise ValueError(f"--system {text!r}: KIND must be one of {', '.join(KINDS)}")
    target, *pairs = target.split(";")
    options = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or key not in ("chat", "system", "threads", "stack"):
            raise ValueError(f"--system {text!r}: unknown option {pair!r} (chat=, system=, threads=, stack=)")
        options[key] = value
    if options.get("threads") and not options["threads"].isdigit():
        raise ValueError(f"--system {text!r}: threads must be a positive integer")
    if not target:
        raise ValueError(f"--system {text!r}: no target after {kind}:")
    if kind in ("artifact", "stack", "hf") and not Path(target).exists():
        raise ValueError(f"--system {text!r}: {target} does not exist")
    return SystemSpec(name, kind, target, options)


@dataclass
class StageCost:
    stage: str
    prompt_tokens: int
    completion_tokens: int
    ms: float
    # What the stage wrote (a stack's stages; empty for a scoring stage), for the per-stage error analysis.
    text: str = ""


@dataclass
class Scored:
    """The continuations of one context: log-likelihoods, greedy flags and token counts, in order."""
    logprobs: list[float]
    greedy: list[bool]
    tokens: list[int]
    stages: list[StageCost]
    ms: float


@dataclass
class Generated:
    text: str
    stages: list[StageCost]
    ms: float


class StageBackend:
    """One stage over gRPC: Score and Generate on StageService."""

    def __init__(self, spec: SystemSpec, address: str, timeout_s: float = DEFAULT_TIMEOUT_S, process=None):
        self.spec, self.address, self.timeout_s, self.process = spec, address, timeout_s, process
        self.channel = channel(address)
        self.stub = stage_grpc.StageServiceStub(self.channel)
        d = call(self.stub.Describe, stage_pb.DescribeRequest(), timeout_s, f"{spec.name}: Describe on {address}")
        if spec.chat and not d.has_chat_template:
            raise EvalError(f"{spec.name}: chat=true but the stage's model has no chat template")
        self.parameters = int(d.parameters)
        self.models = [{"stage": "stage", "model": d.manifest.name, "version": d.manifest.version, "parameters": self.parameters}]
        self.identity = {"kind": "stage", "version": d.manifest.version, "chat": spec.chat, "system": spec.options.get("system", "")}

    def _prompt(self, context: str) -> dict:
        if not self.spec.chat:
            return {"prompt": context}
        system = self.spec.options.get("system", "")
        messages = ([generation_pb.ChatMessage(role="system", content=system)] if system else []) + [
            generation_pb.ChatMessage(role="user", content=context)]
        return {"messages": messages}

    def score(self, context: str, continuations: list[str]) -> Scored:
        if len(continuations) > MAX_CONTINUATIONS:
            raise EvalError(f"{self.spec.name}: {len(continuations)} continuations of one context; at most {MAX_CONTINUATIONS}")
        t0 = time.perf_counter()
        reply = call(self.stub.Score, stage_pb.ScoreRequest(**self._prompt(context), continuations=continuations),
                     self.timeout_s, f"{self.spec.name}: Score")
        ms = (time.perf_counter() - t0) * 1000
        tokens = [len(c.tokens) for c in reply.continuations]
        cost = StageCost("stage", reply.prompt_tokens, sum(tokens), reply.timings.total_ms)
        return Scored([c.logprob for c in reply.continuations], [c.greedy for c in reply.continuations], tokens, [cost], ms)

    def generate(self, context: str, until: list[str], max_tokens: int) -> Generated:
        params = generation_pb.GenerationParams(max_new_tokens=max_tokens, temperature=0, stop=until[:16])
        t0 = time.perf_counter()
        events = stream(self.stub.Generate, stage_pb.GenerateRequest(**self._prompt(context), params=params),
                        self.timeout_s, f"{self.spec.name}: Generate")
        ms = (time.perf_counter() - t0) * 1000
        result = events[-1].result
        cost = StageCost("stage", result.usage.prompt_tokens, result.usage.completion_tokens, result.timings.total_ms, result.text)
        return Generated(result.text, [cost], ms)

    def close(self) -> None:
        self.channel.close()
        if self.process:
            self.process.stop()


class StackBackend:
    """A stack through its router: StackService.Score (earlier stages write, the last one scores) and Run."""

    def __init__(self, spec: SystemSpec, address: str, timeout_s: float = DEFAULT_TIMEOUT_S, process=None,
                 stage_addresses: list[str] | None = None):
        self.spec, self.address, self.timeout_s, self.process = spec, address, timeout_s, process
        self.channel = channel(address)
        self.stub = stack_grpc.StackServiceStub(self.channel)
        name = spec.options.get("stack", "")
        d = call(self.stub.DescribeStack, stack_pb.DescribeStackRequest(stack=name), timeout_s, f"{spec.name}: DescribeStack on {address}")
        self.stack, self.last = d.name, d.stages[-1].name
        self.stage_names = [s.name for s in d.stages]
        self.models = [{"stage": s.name, "model": s.model, "version": "", "parameters": 0} for s in d.stages]
        for entry, stage_address in zip(self.models, stage_addresses or []):
            described = _describe(stage_address, timeout_s)
            entry.update(version=described.manifest.version, parameters=int(described.parameters))
        self.parameters = sum(m["parameters"] for m in self.models)
        self.identity = {"kind": "stack", "stack": self.stack, "stages": [
            {"name": s.name, "model": s.model, "system": s.system, "template": s.template} for s in d.stages]}

    def score(self, context: str, continuations: list[str]) -> Scored:
        if len(continuations) > MAX_CONTINUATIONS:
            raise EvalError(f"{self.spec.name}: {len(continuations)} continuations of one context; at most {MAX_CONTINUATIONS}")
        t0 = time.perf_counter()
        reply = call(self.stub.Score, stack_pb.StackScoreRequest(stack=self.stack, input=context, continuations=continuations),
                     self.timeout_s, f"{self.spec.name}: StackService.Score")
        ms = (time.perf_counter() - t0) * 1000
        score = reply.score
        tokens = [len(c.tokens) for c in score.continuations]
        stages = [_cost(s) for s in reply.stages] + [StageCost(reply.scored_stage, score.prompt_tokens, sum(tokens), score.timings.total_ms)]
        return Scored([c.logprob for c in score.continuations], [c.greedy for c in score.continuations], tokens, stages, ms)

    def generate(self, context: str, until: list[str], max_tokens: int) -> Generated:
        params = {self.last: generation_pb.GenerationParams(max_new_tokens=max_tokens, stop=until[:16])}
        t0 = time.perf_counter()
        reply = call(self.stub.Run, stack_pb.RunRequest(stack=self.stack, input=context, params=params), self.timeout_s, f"{self.spec.name}: Run")
        ms = (time.perf_counter() - t0) * 1000
        return Generated(reply.text, [_cost(s) for s in reply.stages], ms)

    def close(self) -> None:
        self.channel.close()
        if self.process:
            self.process.stop()


def _cost(output) -> StageCost:
    return StageCost(output.stage, output.usage.prompt_tokens, output.usage.completion_tokens, output.timings.total_ms, output.text)


def _describe(address: str, timeout_s: float):
    ch = channel(address)
    try:
        return call(stage_grpc.StageServiceStub(ch).Describe, stage_pb.DescribeRequest(), timeout_s, f"Describe on {address}")
    finally:
        ch.close()


def open_backend(spec: SystemSpec, logs: Path, timeout_s: float = DEFAULT_TIMEOUT_S):
    """A backend for an fslm system (not hf), starting the processes it needs."""
    if spec.kind == "stage":
        return StageBackend(spec, spec.target, timeout_s)
    if spec.kind == "router":
        return StackBackend(spec, spec.target, timeout_s)
    if spec.kind == "artifact":
        proc = processes.start_stage(Path(spec.target).resolve(), logs / f"{spec.name}.log", spec.threads)
        try:
            return StageBackend(spec, str(proc.ready["grpc"]), timeout_s, proc)
        except BaseException:
            proc.stop()
            raise
    if spec.kind == "stack":
        proc = processes.start_stack(Path(spec.target).resolve(), logs / f"{spec.name}.log", spec.threads)
        try:
            stages = [str(s["grpc"]) for s in proc.ready.get("stages", [])]
            return StackBackend(spec, str(proc.ready["grpc"]), timeout_s, proc, stages)
        except BaseException:
            proc.stop()
            raise
    raise ValueError(f"{spec.kind} systems are not served by an fslm backend")
