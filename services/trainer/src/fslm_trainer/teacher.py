"""Teachers that write stage texts.

- `chat` (OpenAI-compatible /chat/completions: vLLM, Ollama, llama.cpp server, OpenAI itself): one call
  per stage, with the stage's system prompt and rendered template as the messages. An fslm router's
  OpenAI door takes one user message (each of its stages has its own system prompt), so it can be a
  chat teacher only for stages without a system prompt; use `stack` mode with a router.
- `stack` (an fslm router): one call per example with the user's input; the router runs its stack and
  returns every stage's text in the `fslm.stages` extension, taken by stage name.
- `local:<HF dir>`: a causal LM in this process (transformers, greedy), for offline recipes.
- `reference`: no model; every stage's text is the row's own reference (`fslm_reference`, as the
  default-data recipe writes it from what it knows: the word, the worked steps, the answer). A stage
  without a reference skips the row. Seconds for hundreds of rows.

HTTP calls retry with exponential backoff on connection errors, 408/429/5xx; other 4xx are the
request's fault (TeacherRejected, the row is skipped). Every call carries a `traceparent` header.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .config import TeacherConfig
from .exitcodes import BadInput, Unavailable
from .stackdef import Stack, Stage
from .tracing import Tracer

REFERENCE = "reference"  # --teacher reference: the rows' own reference texts, no model
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class TeacherRejected(Exception):
    """The teacher refused this request (4xx): skip the row, not the run."""


class TeacherUnavailable(Exception):
    """The teacher could not be reached after every retry."""


@dataclass(frozen=True)
class Reply:
    text: str
    finish_reason: str = ""


class HttpTeacher:
    def __init__(self, cfg: TeacherConfig, tracer: Tracer):
        base = cfg.url.rstrip("/")
        for suffix in ("/chat/completions", "/models"):
            base = base.removesuffix(suffix)
        self.base, self.cfg, self.tracer = base, cfg, tracer
        self.name = f"{cfg.mode}:{base}#{cfg.model}"

    def _key(self) -> str:
        return os.environ.get(self.cfg.api_key_env) or os.environ.get("OPENAI_API_KEY") or ""

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "traceparent": self.tracer.header()}
        if self._key():
            headers["Authorization"] = f"Bearer {self._key()}"
        data = json.dumps(body).encode() if body is not None else None
        last = ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                delay = self.cfg.backoff_s * 2 ** (attempt - 1)
                time.sleep(delay * (0.5 + random.random()))
            req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.cfg.timeout_s) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                detail = e.read().decode("utf-8", "replace")[:300]
                if e.code not in RETRY_STATUS:
                    raise TeacherRejected(f"HTTP {e.code}: {detail}") from None
                last = f"HTTP {e.code}: {detail}"
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
                last = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
            except json.JSONDecodeError as e:
                last = f"the reply is not JSON ({e})"
        raise TeacherUnavailable(f"{self.base}{path}: {last} (after {self.cfg.retries + 1} tries)")

    def check(self, stack: Stack) -> None:
        """Fails early: the endpoint answers, and in stack mode its stack has every stage we need."""
        try:
            listing = self._call("GET", "/models")
        except TeacherRejected as e:
            if self.cfg.mode == "stack":
                raise BadInput(f"teacher {self.base}: GET /models failed ({e}); stack mode needs an fslm router") from None
            return  # some OpenAI-compatible servers have no /models; the first completion will tell
        except TeacherUnavailable as e:
            raise Unavailable(f"teacher unreachable: {e}") from None
        if self.cfg.mode != "stack":
            return
        models = {m.get("id"): m for m in listing.get("data", []) if isinstance(m, dict)}
        entry = models.get(self.cfg.model)
        if entry is None:
            raise BadInput(f"teacher {self.base} serves no stack {self.cfg.model!r} (it has {sorted(models)})")
        have = set((entry.get("fslm") or {}).get("stages") or [])
        missing = [s.name for s in stack.stages if s.name not in have]
        if missing:
            raise BadInput(f"teacher stack {self.cfg.model!r} lacks stage(s) {missing} (it has {sorted(have)})")

    def chat(self, stage: Stage, messages: list[dict]) -> Reply:
        body = {"model": self.cfg.model, "messages": messages, "temperature": self.cfg.temperature,
                "max_tokens": self.cfg.max_tokens or stage.max_new_tokens, "stream": False}
        if stage.stop:
            body["stop"] = list(stage.stop)
        reply = self._call("POST", "/chat/completions", body)
        try:
            choice = reply["choices"][0]
            return Reply(choice["message"].get("content") or "", choice.get("finish_reason") or "")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise TeacherRejected(f"unexpected reply shape: {json.dumps(reply)[:200]}") from None

    def stack_texts(self, user_input: str) -> dict[str, Reply]:
        body = {"model": self.cfg.model, "messages": [{"role": "user", "content": user_input}], "stream": False,
                "temperature": self.cfg.temperature}
        reply = self._call("POST", "/chat/completions", body)
        stages = (reply.get("fslm") or {}).get("stages")
        if not isinstance(stages, list):
            raise TeacherRejected("the reply has no fslm.stages: stack mode needs an fslm router")
        return {s.get("stage"): Reply(s.get("text") or "", _finish(s.get("finish_reason"))) for s in stages}


def _finish(wire: str | None) -> str:
    """The router's FINISH_REASON_LENGTH -> OpenAI's "length"."""
    return (wire or "").removeprefix("FINISH_REASON_").lower()


class LocalTeacher:
    """A Hugging Face causal LM in this process; greedy, one request at a time."""

    def __init__(self, cfg: TeacherConfig):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging

        from .base import check_causal_lm
        from .uri import local_path

        logging.set_verbosity_error()
        path = local_path(cfg.url.removeprefix("local:"), "teacher model")
        check_causal_lm(path)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path).eval()
        self.cfg, self.name = cfg, f"local:{path.resolve()}"
        self._lock = threading.Lock()

    def check(self, stack: Stack) -> None:
        if self.cfg.mode != "chat":
            raise BadInput("a local teacher answers one stage at a time: use --teacher-mode chat")

    def chat(self, stage: Stage, messages: list[dict]) -> Reply:
        import torch

        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                 return_dict=True)
        limit = self.cfg.max_tokens or stage.max_new_tokens
        sample = self.cfg.temperature > 0
        with self._lock, torch.no_grad():
            out = self.model.generate(**ids, max_new_tokens=limit, do_sample=sample,
                                      temperature=self.cfg.temperature if sample else None, top_p=None, top_k=None,
                                      repetition_penalty=1.1, pad_token_id=self.tokenizer.eos_token_id)
        new = out[0, ids["input_ids"].shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        for s in stage.stop:
            text = text.split(s, 1)[0]
        return Reply(text, "length" if len(new) >= limit else "stop")

    def stack_texts(self, user_input: str) -> dict[str, Reply]:  # pragma: no cover - check() refuses it
        raise BadInput("a local teacher has no stack mode")


class ReferenceTeacher:
    """The programmatic teacher: a row's `fslm_reference` texts ({stage or "@last": text}) are its stage
    texts. distill checks them like any teacher's texts; provenance names the teacher `reference`."""

    name = REFERENCE

    def __init__(self, cfg: TeacherConfig):
        self.cfg = cfg

    def check(self, stack: Stack) -> None:
        if self.cfg.mode != "chat":
            raise BadInput("the reference teacher writes one stage at a time: use --teacher-mode chat")

    def text(self, row: dict, stage: str, last: str) -> Reply | None:
        """The row's reference for `stage` (the `@last` one for the stack's last stage), or None."""
        refs = row.get("fslm_reference") or {}
        ref = refs.get(stage) if isinstance(refs, dict) else None
        if ref is None and stage == last and isinstance(refs, dict):
            ref = refs.get("@last")
        return Reply(ref.strip(), "reference") if isinstance(ref, str) and ref.strip() else None


def make_teacher(cfg: TeacherConfig, tracer: Tracer):
    if cfg.mode not in ("chat", "stack"):
        raise BadInput(f"teacher mode must be chat or stack, got {cfg.mode!r}")
    if cfg.url == REFERENCE:
        return ReferenceTeacher(cfg)
    if cfg.url.startswith("local:"):
        return LocalTeacher(cfg)
    if not cfg.url.startswith(("http://", "https://")):
        raise BadInput(f"teacher URL must be http(s)://…/v1, local:<HF dir> or reference, got {cfg.url!r}")
    if not cfg.model:
        raise BadInput("the teacher's model name is required (--teacher-model; for an fslm router, the stack name)")
    return HttpTeacher(cfg, tracer)
