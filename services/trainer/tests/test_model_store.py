"""model_store: the trainer's publishing side of the model-store contract. Bad URIs and tampered artifacts
are refused before any store is contacted; the real upload to an S3-compatible server is exercised end to end
by test/stack/model-uris.test.ts (trainer -> SeaweedFS -> fslm model fetch -> fslm up)."""

from __future__ import annotations

import hashlib
import json

import pytest

from fslm_trainer.exitcodes import BadInput
from fslm_trainer.model_store import is_store_uri, parse_s3, push, staging_dir

pytestmark = pytest.mark.timeout(60)


def artifact(root):
    files = {"config.json": b'{"model_type": "llama"}', "onnx/model.onnx": b"\x00" * 1000}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    manifest = {"format": 1, "name": "t", "files": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}}
    (root / "fslm.json").write_text(json.dumps(manifest))
    return root


def test_only_s3_is_published_after_writing_locally():
    assert is_store_uri("s3://bucket/runs/r1/final")
    assert not is_store_uri("file:///models/final")
    assert not is_store_uri("/models/final")


@pytest.mark.parametrize("uri, message", [
    ("s3://Bad_Bucket/x", "not a valid S3 bucket name"),
    ("s3://ab/x", "not a valid S3 bucket name"),
    ("s3://bucket/a//b", 'empty, "." or ".." segment'),
    ("s3://bucket/a/../b", 'empty, "." or ".." segment'),
    ("file:///x", "is not an s3:// URI"),
])
def test_bad_s3_uris_are_refused(uri, message):
    with pytest.raises(BadInput, match=message):
        parse_s3(uri)


def test_an_s3_uri_is_normalised_like_the_typescript_store():
    loc = parse_s3("s3://fslm-models/runs/r1/final/")
    assert (loc.uri, loc.bucket, loc.prefix, loc.key("fslm.json")) == (
        "s3://fslm-models/runs/r1/final", "fslm-models", "runs/r1/final", "runs/r1/final/fslm.json")
    assert parse_s3("s3://fslm-models").key("fslm.json") == "fslm.json"


def test_the_local_staging_folder_is_stable_per_uri_and_follows_the_work_dir(tmp_path):
    a, b = staging_dir("s3://b/x", None), staging_dir("s3://b/y", None)
    assert a == staging_dir("s3://b/x", None) and a != b and a.name == "artifact"
    assert staging_dir("s3://b/x", str(tmp_path)) == tmp_path.resolve() / "artifact"


def test_a_tampered_artifact_is_refused_before_any_store_is_contacted(tmp_path, monkeypatch):
    root = artifact(tmp_path / "a")
    (root / "onnx/model.onnx").write_bytes(b"\x01" * 1000)
    # No endpoint or credentials at all: the refusal must come from the local check.
    for var in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(BadInput, match=r"onnx/model.onnx: sha256 .* does not match fslm.json"):
        push(root, "s3://fslm-models/runs/r1/final")
    (root / "extra.bin").write_bytes(b"x")
    (root / "onnx/model.onnx").write_bytes(b"\x00" * 1000)
    with pytest.raises(BadInput, match="extra.bin: present but not listed"):
        push(root, "s3://fslm-models/runs/r1/final")
