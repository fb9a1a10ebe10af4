"""The trainer's stack check against the shared corpus (test/fixtures/stacks): the same files accepted
and refused as by the router and the API server, with the same problems, word for word; every CEL
rule of the Stack CRD has a mirror here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fslm_trainer.exitcodes import BadInput
from fslm_trainer.stackdef import load_stack, stack_problems
from fslm_trainer.stackrules import RULE_MIRRORS, cel_rule_messages

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "test" / "fixtures" / "stacks"


def _corpus() -> list[tuple[str, Path, bool]]:
    files = [(f"valid/{f.name}", f, True) for f in sorted((CORPUS / "valid").glob("*.yaml"))]
    files += [(f"invalid/{f.name}", f, False) for f in sorted((CORPUS / "invalid").glob("*.yaml"))]
    files += [(f"stacks/{f.name}", f, True) for f in sorted((ROOT / "stacks").glob("*.yaml"))]
    return files


def _expected(path: Path) -> list[str]:
    prefix = "# expect: "
    return [line[len(prefix):] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize(("name", "path", "valid"), _corpus(), ids=[c[0] for c in _corpus()])
def test_corpus_file(name: str, path: Path, valid: bool):
    found = [f"{p}: {m}" for p, m in stack_problems(yaml.safe_load(path.read_text(encoding="utf-8")))]
    if valid:
        assert found == [], f"{name} must be accepted"
        load_stack(path)
    else:
        assert _expected(path), f"{name} lists no expected problems"
        assert found == _expected(path)
        with pytest.raises(BadInput) as err:
            load_stack(path)
        assert str(err.value).splitlines()[1:] == [f"  {line}" for line in _expected(path)]


def test_every_cel_rule_has_a_mirror():
    assert sorted(cel_rule_messages()) == sorted(RULE_MIRRORS)


def test_the_default_stack_reads_as_the_router_reads_it():
    stack = load_stack(ROOT / "stacks" / "default.yaml")
    assert [s.name for s in stack.stages] == ["understand", "keywords", "intermediate", "final"]
    assert [p.text for p in stack.stage("keywords").parts if p.kind == "stage"] == ["understand"]
    assert stack.stage("final").max_new_tokens == 128
