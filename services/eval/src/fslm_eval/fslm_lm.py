"""The lm-eval model class for fslm systems, registered as "fslm": log-likelihoods from StageService.Score
(or StackService.Score for a stack: the earlier stages write their text, the last stage scores the
answers given its rendered prompt) and greedy generation. Requests are answered from the run's cache
when their results are there; each answered request's cost per stage is recorded for the report.

How contexts and continuations reach a stage:
- raw-text systems (a stage or artifact without chat=true): as lm-eval's own `hf` model splits them, the
  context's trailing whitespace moves to the continuation, and the continuation's tokens are those of
  context + continuation beyond the context's own tokens (the stage does this split); an empty
  context scores after the model's BOS (or EOS) token;
- chat systems (chat=true, and every stack): the context is the user's turn, the continuation is
  scored as the start of the assistant's turn, so surrounding whitespace (lm-eval's target delimiter)
  is dropped from both.
"""

from __future__ import annotations

from typing import Callable, Sequence

import lm_eval.models  # noqa: F401  (lm-eval's own models, hf included, registered before fslm's)
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from tqdm import tqdm

from .request_cache import RequestCache, request_key
from .wire import EvalError

DEFAULT_MAX_GEN_TOKS = 256
MAX_TEXT = 2000  # characters of a stage's text kept with a request's cost (per-stage error analysis)


def split_context(context: str, continuations: list[str], chat: bool) -> tuple[str, list[str]]:
    """The prompt and continuations a stage is asked to score (see the module's docstring)."""
    if chat:
        return context.strip(), [c.lstrip() for c in continuations]
    spaces = len(context) - len(context.rstrip())
    if spaces == 0:
        return context, continuations
    return context[:-spaces], [context[-spaces:] + c for c in continuations]


@register_model("fslm")
class FslmLM(LM):
    def __init__(self, backend, cache: RequestCache, record: Callable[[dict], None], name: str):
        super().__init__()
        self.backend, self.cache, self.record, self.name = backend, cache, record, name
        self.chat = backend.spec.chat or backend.spec.kind in ("router", "stack")

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None) -> "FslmLM":
        """lm-eval's own way in (`simple_evaluate(model="fslm", model_args=...)`, or `lm_eval --model fslm`
        once this module is imported): kind=stage|router|artifact|stack,target=...[,chat=true][,system=...]
        [,threads=N][,stack=NAME][,cache=FILE.jsonl]. Processes it starts (artifact, stack) stop when this
        Python process exits."""
        import atexit
        import tempfile
        from pathlib import Path

        from lm_eval.utils import simple_parse_args_string

        from .systems import open_backend, parse_system

        args = {k: str(v) for k, v in simple_parse_args_string(arg_string).items()}
        kind, target = args.pop("kind", ""), args.pop("target", "")
        cache_file = args.pop("cache", "")
        spec = parse_system(f"fslm={kind}:{target}" + "".join(f";{k}={v}" for k, v in args.items()))
        logs = Path(tempfile.mkdtemp(prefix="fslm-eval-"))
        backend = open_backend(spec, logs)
        atexit.register(backend.close)
        cache = RequestCache(Path(cache_file) if cache_file else logs / "cache.jsonl")
        atexit.register(cache.close)
        return cls(backend, cache, lambda _record: None, spec.name)

    def _answer(self, method: str, args: list, ask: Callable[[], tuple[object, dict]], instance,
                also: Sequence[tuple[str, int]] = ()) -> object:
        """One request, from the cache or asked; its record names the instance it was asked for and, under
        "also", the other (task, doc_id) pairs it answered (tasks that share a context share its run)."""
        key = request_key(self.backend.identity, method, args)
        entry = self.cache.get(key)
        cached = entry is not None
        if entry is None:
            value, cost = ask()
            entry = self.cache.put(key, value, cost)
        record = {"task": instance.task_name, "doc_id": instance.doc_id, "method": method, "cached": cached, **entry["cost"]}
        if also:
            record["also"] = [{"task": task, "doc_id": doc_id} for task, doc_id in also]
        self.record(record)
        return entry["value"]

    def loglikelihood(self, requests, disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        groups: dict[str, list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault(request.args[0], []).append(i)
        results: list[tuple[float, bool] | None] = [None] * len(requests)
        for context, members in tqdm(groups.items(), desc=f"{self.name}: log-likelihood", unit="context", disable=disable_tqdm):
            continuations = [requests[i].args[1] for i in members]
            prompt, conts = split_context(context, continuations, self.chat)
            if prompt == "" and self.chat:
                raise EvalError(f"{self.name}: an empty context cannot be a chat turn")
            if any(c == "" for c in conts):
                raise EvalError(f"{self.name}: a continuation of {context[-60:]!r} is empty after whitespace is moved")
            # An empty raw context: each continuation alone after the prefix token.
            batches = [[c] for c in conts] if prompt == "" else [conts]
            first = requests[members[0]]
            also = sorted({(requests[i].task_name, requests[i].doc_id) for i in members} - {(first.task_name, first.doc_id)})
            values: list = []
            for batch in batches:
                values += self._answer("loglikelihood", [prompt, batch], lambda b=batch: self._score(prompt, b), first, also)
            for i, (logprob, greedy) in zip(members, values):
                results[i] = (float(logprob), bool(greedy))
        return results  # type: ignore[return-value]

    def _score(self, prompt: str, continuations: list[str]) -> tuple[list, dict]:
        scored = self.backend.score(prompt, continuations)
        value = [[lp, g] for lp, g in zip(scored.logprobs, scored.greedy)]
        return value, _cost(scored.stages, scored.ms, continuation_tokens=sum(scored.tokens))

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        if self.chat:
            raise EvalError(f"{self.name}: loglikelihood_rolling scores raw text; use a system without chat=true")
        out = []
        for request in tqdm(requests, desc=f"{self.name}: rolling log-likelihood", disable=disable_tqdm):
            (text,) = request.args[:1]
            out.append(float(self._answer("loglikelihood_rolling", [text], lambda t=text: self._rolling(t), request)))
        return out

    def _rolling(self, text: str) -> tuple[float, dict]:
        scored = self.backend.score("", [text])
        return scored.logprobs[0], _cost(scored.stages, scored.ms, continuation_tokens=scored.tokens[0])

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        out = []
        for request in tqdm(requests, desc=f"{self.name}: generation", disable=disable_tqdm):
            context, kwargs = request.args[0], dict(request.args[1] or {})
            if kwargs.get("do_sample"):
                raise EvalError(f"{self.name}: fslm eval decodes greedily; the task asks for do_sample=true")
            until = kwargs.get("until") or []
            until = [until] if isinstance(until, str) else list(until)
            max_tokens = int(kwargs.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS))
            prompt = context.strip() if self.chat else context
            out.append(self._answer("generate_until", [prompt, until, max_tokens],
                                    lambda p=prompt, u=until, m=max_tokens: self._generate(p, u, m), request))
        return out

    def _generate(self, prompt: str, until: list[str], max_tokens: int) -> tuple[str, dict]:
        generated = self.backend.generate(prompt, until, max_tokens)
        text = generated.text
        for stop in until:  # a stage stops before a stop string; a stack's earlier text never reaches here
            text = text.split(stop, 1)[0]
        return text, _cost(generated.stages, generated.ms)


def _cost(stages, ms: float, continuation_tokens: int = 0) -> dict:
    return {"ms": ms, "continuation_tokens": continuation_tokens,
            "stages": [{"stage": s.stage, "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens, "ms": s.ms,
                        **({"text": s.text[:MAX_TEXT]} if s.text else {})} for s in stages]}
