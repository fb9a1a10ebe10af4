"""distill against a scripted OpenAI-compatible server: stage texts in turn, provenance, filters,
known-answer checks, retries with backoff, trace propagation, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import json_lines, run_cli, write_jsonl
from support.fake_openai import FakeOpenAI

STACK = """apiVersion: fslm.dev/v1alpha1
kind: Stack
metadata: {name: pair}
spec:
  stages:
    - name: keywords
      model: unused
      system: You write search keywords.
      template: "Keywords for: {input}"
      params: {maxNewTokens: 16}
    - name: final
      model: unused
      template: |-
        Request: {input}
        Keywords: {stages.keywords}
"""
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def stack_file(tmp_path: Path, text: str = STACK) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    return path


def distill(tmp_path, url, data, *extra):
    return run_cli("distill", "--data", data, "--stack", stack_file(tmp_path), "--out", tmp_path / "out",
                   "--teacher", url, "--teacher-model", "teacher", "--backoff", "0.05", "--concurrency", "2",
                   "--traceparent", TRACEPARENT, *extra)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def echo_teacher(body, n):
    user = body["messages"][-1]["content"]
    return 200, ("kw: " + user.split(": ", 1)[1]) if user.startswith("Keywords for") else "Answer to " + user.splitlines()[0]


def test_each_stage_is_written_in_turn_with_its_rendered_prompt_and_provenance(tmp_path):
    data = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "Say hi", "input": "", "output": "hi"},
                                              {"instruction": "Count", "input": "to three", "output": "1 2 3"}])
    with FakeOpenAI(echo_teacher) as teacher:
        run = distill(tmp_path, teacher.url, data)
    assert run.returncode == 0, run.stderr
    kw, final = read(tmp_path / "out/keywords.jsonl"), read(tmp_path / "out/final.jsonl")
    assert [r["prompt"] for r in kw] == ["Keywords for: Say hi", "Keywords for: Count\n\nto three"]
    assert kw[0]["system"] == "You write search keywords." and kw[0]["completion"] == "kw: Say hi"
    assert final[1]["prompt"] == "Request: Count\n\nto three\nKeywords: kw: Count\n\nto three"
    p = final[0]["provenance"]
    assert p["teacher"].startswith("chat:http://127.0.0.1:") and p["source"]["line"] == 1
    assert len(p["prompt_version"]) == 12 and p["trace_id"] == TRACEPARENT.split("-")[1]
    first_call = teacher.requests[0]
    assert first_call["body"]["messages"][0] == {"role": "system", "content": "You write search keywords."}
    assert first_call["body"]["max_tokens"] == 16
    tp = first_call["headers"]["traceparent"].split("-")
    assert tp[1] == TRACEPARENT.split("-")[1] and tp[2] != TRACEPARENT.split("-")[2]


def test_empty_degenerate_and_wrong_answers_are_skipped_with_their_reasons(tmp_path):
    rows = [
        {"instruction": "empty please", "output": ""},
        {"instruction": "loop please", "output": ""},
        {"instruction": "What is 6 times 7?", "output": "42", "fslm_check": [{"stage": "@last", "answer": "42"}]},
        {"instruction": "What is 2 plus 2?", "output": "4", "fslm_check": [{"stage": "final", "answer": "4"}]},
        {"instruction": "fine", "output": "ok"},
    ]

    def teacher_reply(body, n):
        user = body["messages"][-1]["content"]
        if "empty please" in user and user.startswith("Keywords"):
            return 200, "   "
        if "loop please" in user and user.startswith("Request"):
            return 200, "the cat sat " * 20
        if "6 times 7" in user and user.startswith("Request"):
            return 200, "It is 41."
        if "2 plus 2" in user and user.startswith("Request"):
            return 200, "2 + 2 = 4, so the answer is 4."
        return 200, "fine text"

    data = write_jsonl(tmp_path / "a.jsonl", rows)
    with FakeOpenAI(teacher_reply) as teacher:
        run = distill(tmp_path, teacher.url, data)
    assert run.returncode == 0, run.stderr
    result = json_lines(run.stdout)[-1]
    assert result["kept"] == 2
    assert result["skipped"] == {"empty_output": 1, "degenerate_repetition": 1, "wrong_answer": 1}
    skipped = read(tmp_path / "out/skipped.jsonl")
    assert [(s["line"], s["reason"], s["stage"]) for s in skipped] == [
        (1, "empty_output", "keywords"), (2, "degenerate_repetition", "final"), (3, "wrong_answer", "final")]
    assert "skipped: empty_output 1, degenerate_repetition 1, wrong_answer 1" in run.stderr


def test_a_failing_text_takes_the_rows_reference_when_asked(tmp_path):
    rows = [{"instruction": "What is 6 times 7?", "output": "6 x 7 = 42.",
             "fslm_check": [{"stage": "@last", "answer": "42"}], "fslm_reference": {"@last": "6 x 7 = 42."}}]
    data = write_jsonl(tmp_path / "a.jsonl", rows)
    with FakeOpenAI(lambda body, n: (200, "It is 41.")) as teacher:
        run = distill(tmp_path, teacher.url, data, "--on-invalid", "reference")
    assert run.returncode == 0, run.stderr
    final = read(tmp_path / "out/final.jsonl")[0]
    assert final["completion"] == "6 x 7 = 42."
    assert final["provenance"]["teacher"] == "reference" and final["provenance"]["teacher_rejected"] == "wrong_answer"
    assert json_lines(run.stdout)[-1]["this_run"]["replaced_by_reference"] == {"final": 1}


def test_server_errors_are_retried_with_backoff_and_client_errors_skip_the_row(tmp_path):
    def flaky(body, n):
        if "refuse" in body["messages"][-1]["content"]:
            return 400, "context length exceeded"
        return (503, "busy") if n <= 2 else (200, "fine text")

    data = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "hello"}, {"instruction": "refuse me"}])
    with FakeOpenAI(flaky) as teacher:
        run = distill(tmp_path, teacher.url, data, "--concurrency", "1")
    assert run.returncode == 0, run.stderr
    result = json_lines(run.stdout)[-1]
    assert result["kept"] == 1 and result["skipped"] == {"teacher_rejected": 1}
    assert "context length exceeded" in read(tmp_path / "out/skipped.jsonl")[0]["detail"]


def test_an_unreachable_teacher_exits_3_so_the_job_is_retried(tmp_path):
    data = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "hello"}])
    run = distill(tmp_path, "http://127.0.0.1:9/v1", data, "--retries", "1")
    assert run.returncode == 3, run.stderr
    assert "unreachable" in run.stderr


def test_bad_instruction_data_exits_2_naming_the_problem(tmp_path):
    cases = {
        "empty.jsonl": ("", "is empty"),
        "missing.jsonl": ('{"input": "x", "output": "y"}\n', "line 1: missing field 'instruction'"),
        "typed.jsonl": ('{"instruction": "x", "input": 3}\n', "field 'input' must be a string"),
        "broken.jsonl": ('{"instruction": "x"}\n{not json\n', "line 2: not valid JSON"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        run = distill(tmp_path, "http://127.0.0.1:9/v1", tmp_path / name)
        assert run.returncode == 2, (name, run.stderr)
        assert message in run.stderr, (name, run.stderr)


def test_a_stack_whose_template_names_an_unknown_stage_exits_2(tmp_path):
    bad = STACK.replace("{stages.keywords}", "{stages.search}")
    data = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "hello"}])
    run = run_cli("distill", "--data", data, "--stack", stack_file(tmp_path, bad), "--out", tmp_path / "out",
                  "--teacher", "http://127.0.0.1:9/v1", "--teacher-model", "t")
    assert run.returncode == 2
    assert "template: a template may only use {stages.<name>} of a stage listed before it" in run.stderr


def test_a_bad_fslm_variable_fails_only_distill_with_exit_2_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FSLM_DISTILL_CONCURRENCY", "four")
    data = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "hello"}])
    run = run_cli("distill", "--data", data, "--stack", stack_file(tmp_path), "--out", tmp_path / "out",
                  "--teacher", "http://127.0.0.1:9/v1", "--teacher-model", "t")
    assert run.returncode == 2, run.stderr
    assert "FSLM_DISTILL_CONCURRENCY" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()
    helped = run_cli("verify", "--help")
    assert helped.returncode == 0 and "artifact" in helped.stdout, helped.stderr
