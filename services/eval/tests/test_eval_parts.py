"""The parts of fslm eval: Wilson intervals, how contexts and continuations reach a
stage, system specs, the JSONL task shapes, the request cache's resume, and lm-eval building the
registered `fslm` model from its own arguments (on the tiny model)."""

from __future__ import annotations

import json

import pytest
from .helpers import DATA

from fslm_eval.chain import chain_analysis, gloss_choice
from fslm_eval.fslm_lm import split_context
from fslm_eval.intervals import wilson
from fslm_eval.paired import mcnemar_exact, paired
from fslm_eval.request_cache import RequestCache, request_key
from fslm_eval.systems import parse_system
from fslm_eval.tasks import TaskError, held_out, jsonl_task

pytestmark = pytest.mark.timeout(600)


def test_wilson_interval_matches_known_values():
    # Known values (Newcombe 1998, table I): 81/263 -> [0.2553, 0.3662]; 0/10 -> [0, 0.2775].
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    assert wilson(10, 10)[1] == 1.0 and wilson(0, 0) == (0.0, 1.0)


def test_contexts_are_split_as_lm_eval_does_for_raw_text_and_as_a_turn_for_chat():
    assert split_context("Question: 2+2?\nAnswer:", [" 4", " 5"], chat=False) == ("Question: 2+2?\nAnswer:", [" 4", " 5"])
    assert split_context("The answer is ", ["4"], chat=False) == ("The answer is", [" 4"])
    assert split_context("Q?\n\n", ["x"], chat=False) == ("Q?", ["\n\nx"])
    assert split_context("  What is 2+2?\n", [" 4", "five"], chat=True) == ("What is 2+2?", ["4", "five"])


def test_system_specs():
    spec = parse_system(f"single=artifact:{DATA};chat=true;system=Be brief.;threads=2")
    assert (spec.name, spec.kind, spec.chat, spec.threads, spec.options["system"]) == ("single", "artifact", True, 2, "Be brief.")
    assert parse_system("s=router:127.0.0.1:50050;stack=default").options == {"stack": "default"}
    assert parse_system("s=stage:127.0.0.1:50051").target == "127.0.0.1:50051"
    for bad, message in [("noequals", "NAME=KIND"), ("a b=stage:x", "NAME=KIND"), ("s=gpu:x", "KIND must be"),
                         ("s=stage:", "no target"), ("s=stage:h:1;threads=x", "threads must be"), ("s=stack:/no/such.yaml", "does not exist")]:
        with pytest.raises(ValueError, match=message):
            parse_system(bad)


def test_jsonl_shapes(tmp_path):
    arc = jsonl_task("arc", DATA / "tinyArc-sample.jsonl")
    assert arc["doc_to_choice"] == "{{choices.text}}" and arc["metadata"]["shape"] == "arc"
    mmlu = jsonl_task("mmlu", DATA / "tinyMMLU-sample.jsonl")
    assert mmlu["doc_to_text"] == "{{input_formatted}}" and mmlu["doc_to_choice"] == ["A", "B", "C", "D"]
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"question": "2+2?", "choices": ["3", "4"], "answer": 1}) + "\n")
    assert "B. {{ c }}" not in jsonl_task("p", plain)["doc_to_text"] and jsonl_task("p", plain)["doc_to_choice"] == ["A", "B"]
    generic = tmp_path / "generic.jsonl"
    generic.write_text(json.dumps({"query": "Sky:", "choices": [" blue", " red"], "gold": 0}) + "\n")
    assert jsonl_task("g", generic)["doc_to_text"] == "{{query}}"
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"prompt": "x", "answer": "y"}) + "\n")
    with pytest.raises(TaskError, match="none of the known shapes"):
        jsonl_task("odd", odd)


def test_request_cache_resumes_and_ignores_a_torn_last_line(tmp_path):
    path = tmp_path / "cache.jsonl"
    cache = RequestCache(path)
    key = request_key({"kind": "stage", "version": "v1"}, "loglikelihood", ["ctx", [" a"]])
    assert key != request_key({"kind": "stage", "version": "v2"}, "loglikelihood", ["ctx", [" a"]]), "the model version is part of the key"
    cache.put(key, [[-1.5, True]], {"ms": 3.0, "stages": []})
    cache.close()
    with open(path, "a") as f:
        f.write('{"key": "torn", "val')
    again = RequestCache(path)
    assert again.get(key)["value"] == [[-1.5, True]] and again.get("torn") is None and again.hits == 1
    again.close()
    assert RequestCache(path, fresh=True).get(key) is None


def test_lm_eval_builds_the_fslm_model_from_its_arguments(tiny_models, tmp_path):
    """`fslm` is a registered lm-eval model: simple_evaluate(model="fslm", model_args=...) serves the
    artifact with a stage it starts and scores the sample like the CLI does."""
    from lm_eval import simple_evaluate

    from fslm_eval.tasks import jsonl_task

    res = simple_evaluate(model="fslm", model_args=f"kind=artifact,target={tiny_models['tiny-onnx']},threads=1,cache={tmp_path / 'c.jsonl'}",
                          tasks=[jsonl_task("arc", DATA / "tinyArc-sample.jsonl")], limit=3, log_samples=True)
    assert res["results"]["arc"]["sample_len"] == 3
    assert all(len(s["filtered_resps"]) == 4 for s in res["samples"]["arc"])
    assert len((tmp_path / "c.jsonl").read_text().splitlines()) == 3


def test_gloss_choice_points_at_the_gloss_a_text_names():
    choices = ["not necessary", "not firmly fastened or secured", "causing one to believe the truth of something",
               "made light by aerating, as with yeast or baking powder"]
    assert gloss_choice('In WordNet, "convincing" is an adjective meaning causing belief in the truth.', choices) == 2
    assert gloss_choice("convincing, adjective, meaning, definition", choices) is None, "no word shared"
    assert gloss_choice("firmly necessary", ["firmly", "necessary"]) is None, "a tie names no choice"


def _write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_chain_analysis_finds_where_wrong_answers_start_on_every_task(tmp_path):
    def stages(*texts, scored=False):
        named = [{"stage": f"s{i}", "text": t} for i, t in enumerate(texts)]
        return named + ([{"stage": "last"}] if scored else [])

    arith = [({"answer": 20}, ["so 20 in all", "Answer: 21", "Answer: 21"], 0.0),   # had it, lost it
             ({"answer": 5}, ["3 + 2", "Answer: 5", "Answer: 5"], 1.0),
             ({"answer": 7}, ["no numbers", "Answer: 8", "Answer: 9"], 0.0)]       # never had it
    instr = [({"check": {"contains": "yfirret"}}, ["terrify", "yfirret", "yfirret"], 1.0),
             ({"check": {"letter": "i"}}, ["i", "The letter is n", "n"], 0.0)]
    glosses = ["not necessary", "causing one to believe the truth of something"]
    wordnet = [({"choices": glosses, "gold": 1}, ["believe the truth", "the truth of it"], 0.0),
               ({"choices": glosses, "gold": 1}, ["meaning", "nothing said"], 1.0)]
    stats, specs = [], [("arithmetic", "generate_until", "exact_match", arith, False),
                        ("instructions", "generate_until", "pass", instr, False),
                        ("wordnet-mc", "loglikelihood", "acc", wordnet, True)]
    for task, method, metric, docs, scored in specs:
        _write_jsonl(tmp_path / "samples/stack" / f"{task}.jsonl",
                     [{"doc_id": i, "doc": doc, metric: score} for i, (doc, _, score) in enumerate(docs)])
        stats += [{"task": task, "doc_id": i, "method": method, "stages": stages(*texts, scored=scored)}
                  for i, (_, texts, _) in enumerate(docs)]
    # wordnet-mc-answer's documents share wordnet-mc's contexts: one request answered both, named under "also".
    _write_jsonl(tmp_path / "samples/stack/wordnet-mc-answer.jsonl", [{"doc_id": 1, "doc": wordnet[1][0], "acc": 0.0}])
    stats[-1]["also"] = [{"task": "wordnet-mc-answer", "doc_id": 1}]
    _write_jsonl(tmp_path / "stats/stack.jsonl", stats)

    a = chain_analysis(tmp_path, "stack", "arithmetic")
    assert [s["holds_answer"] for s in a["stages"]] == [1 / 3, 1 / 3, 1 / 3]
    assert (a["wrong"], a["wrong_but_an_earlier_stage_had_it"], a["wrong_and_no_stage_had_it"]) == (2, 1, 1)
    i = chain_analysis(tmp_path, "stack", "instructions")
    assert [s["holds_answer"] for s in i["stages"]] == [0.5, 0.5, 0.5] and (i["wrong"], i["wrong_but_an_earlier_stage_had_it"]) == (1, 1)
    w = chain_analysis(tmp_path, "stack", "wordnet-mc")
    assert [s["stage"] for s in w["stages"]] == ["s0", "s1", "last"], "the scoring stage's hit is the document's acc"
    assert [s["holds_answer"] for s in w["stages"]] == [0.5, 0.5, 0.5] and (w["wrong"], w["wrong_but_an_earlier_stage_had_it"]) == (1, 1)
    wa = chain_analysis(tmp_path, "stack", "wordnet-mc-answer")
    assert (wa["documents"], wa["wrong"], [s["holds_answer"] for s in wa["stages"]]) == (1, 1, [0.0, 0.0, 0.0])
    _write_jsonl(tmp_path / "stats/single.jsonl", [{"task": "arithmetic", "doc_id": 0, "method": "generate_until",
                                                    "stages": [{"stage": "final", "text": "Answer: 21"}]}])
    _write_jsonl(tmp_path / "samples/single/arithmetic.jsonl", [{"doc_id": 0, "doc": {"answer": 20}, "exact_match": 0.0}])
    assert chain_analysis(tmp_path, "single", "arithmetic") is None, "one stage has no chain"
    assert chain_analysis(tmp_path, "stack", "some-other-task") is None


def test_wordnet_mc_answer_scores_the_same_items_after_the_answers_lead_in():
    plain, answer = held_out(["wordnet-mc", "wordnet-mc-answer"])
    assert plain["dataset_kwargs"] == answer["dataset_kwargs"], "the same items"
    doc = {"word": "lucid", "pos": "adjective", "choices": ["clear", "dark"], "gold": 0}
    assert answer["doc_to_choice"](doc) == ['"lucid" (adjective) means: clear', '"lucid" (adjective) means: dark']


def test_paired_differences_by_mcnemars_exact_test(tmp_path):
    # Exact binomial tails: b=0, c=6 -> 2 * (1/2)^6 = 0.03125; b=c -> 1; b=1, c=9 -> 2 * 11/1024.
    assert mcnemar_exact(0, 6) == 0.03125 and mcnemar_exact(4, 4) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(1, 9) == 2 * 11 / 1024
    _write_jsonl(tmp_path / "samples/a/t.jsonl", [{"doc_id": i, "acc": float(i < 8)} for i in range(10)])
    _write_jsonl(tmp_path / "samples/b/t.jsonl", [{"doc_id": i, "acc": float(i < 2)} for i in range(12)])
    p = paired(tmp_path, "a", "b", "t", "acc")
    assert (p["n"], p["first_only"], p["second_only"], p["difference"], p["p"]) == (10, 6, 0, 0.6, 0.03125)
    assert paired(tmp_path, "a", "missing", "t", "acc") is None
