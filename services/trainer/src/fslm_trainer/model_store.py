"""The model store's writing side (the contract is services/model-store/README.md): a finished local artifact
directory is published to `s3://bucket/prefix` on any S3-compatible store through boto3 (endpoint, region and
credentials from the standard AWS variables and files; FSLM_S3_FORCE_PATH_STYLE=1 for path-style addressing).
Every file is checked against fslm.json before it is sent, fslm.json goes last (its presence marks the artifact
complete), a stored version is never overwritten, and a failed upload removes what it wrote. `file://` outputs
need no store: the trainer writes them in place (outdir.staged_dir)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .exitcodes import BadInput, Unavailable
from .manifest import MANIFEST, hash_tree, verify_artifact
from .uri import scheme_of

STORE_SCHEMES = ("s3",)
_BUCKET_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-")


@dataclass(frozen=True)
class S3Location:
    uri: str
    bucket: str
    prefix: str

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel


def is_store_uri(uri: str) -> bool:
    """True for a URI the trainer publishes to after writing locally (s3://)."""
    return scheme_of(uri) in STORE_SCHEMES


def parse_s3(uri: str, what: str = "output") -> S3Location:
    """s3://bucket/prefix, with the same rules as the TypeScript store (model-uri.ts); BadInput otherwise."""
    if not uri.startswith("s3://"):
        raise BadInput(f"{what}: {uri} is not an s3:// URI")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    prefix = prefix.rstrip("/")
    if not (3 <= len(bucket) <= 63 and set(bucket) <= _BUCKET_CHARS and bucket[0].isalnum() and bucket[-1].isalnum()):
        raise BadInput(f"{what}: {bucket!r} is not a valid S3 bucket name ({uri})")
    if prefix and any(s in ("", ".", "..") for s in prefix.split("/")):
        raise BadInput(f'{what}: the key prefix of {uri} has an empty, "." or ".." segment')
    return S3Location(f"s3://{bucket}{'/' + prefix if prefix else ''}", bucket, prefix)


def staging_dir(uri: str, work: str | None) -> Path:
    """Where the artifact for a store URI is written locally before it is published: under the work
    directory when one is given, else a folder per URI in the temp directory (so a rerun resumes)."""
    if work:
        return Path(work).expanduser().resolve() / "artifact"
    digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "fslm-trainer" / digest / "artifact"


def _client():
    import boto3
    from botocore.config import Config

    path_style = os.environ.get("FSLM_S3_FORCE_PATH_STYLE", "").strip().lower()
    if path_style not in ("", "0", "1", "true", "false"):
        raise BadInput(f"FSLM_S3_FORCE_PATH_STYLE must be 1, 0, true or false, got {path_style!r}")
    style = "path" if path_style in ("1", "true") else "auto"
    return boto3.client("s3", config=Config(s3={"addressing_style": style}, retries={"mode": "standard"}))


def _store_error(loc: S3Location, doing: str, e: Exception) -> Exception:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    if isinstance(e, S3UploadFailedError):
        return Unavailable(f"{loc.uri}: {doing}: {e}")
    if isinstance(e, (NoCredentialsError, NoRegionError)):
        return BadInput(f"{loc.uri}: {doing}: {e} (set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and AWS_REGION)")
    if isinstance(e, ClientError):
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
            return BadInput(f"{loc.uri}: {doing}: {code}: {e}")
        return Unavailable(f"{loc.uri}: {doing}: {e}")
    if isinstance(e, BotoCoreError):
        return Unavailable(f"{loc.uri}: {doing}: {e}")
    return e


def _existing_manifest(client, loc: S3Location) -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        return client.get_object(Bucket=loc.bucket, Key=loc.key(MANIFEST))["Body"].read()
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise _store_error(loc, f"read {MANIFEST}", e) from e
    except Exception as e:
        raise _store_error(loc, f"read {MANIFEST}", e) from e


def _listed_keys(client, loc: S3Location) -> list[str]:
    keys: list[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.key("")):
            keys += [obj["Key"] for obj in page.get("Contents", [])]
    except Exception as e:
        raise _store_error(loc, "list", e) from e
    return keys


def check_destination(uri: str, manifest: bytes | None = None) -> None:
    """Fails fast (before any training) when `uri` cannot take an artifact: bad URI, no credentials, no such
    bucket, or a prefix that holds objects other than a complete artifact (equal to `manifest` when given)."""
    loc = parse_s3(uri)
    client = _client()
    existing = _existing_manifest(client, loc)
    if existing is not None:
        if manifest is not None and existing != manifest:
            raise BadInput(f"{loc.uri} already holds another model version; versions are never overwritten: choose another output")
        return
    keys = _listed_keys(client, loc)
    if keys:
        raise BadInput(f"{loc.uri} already holds {len(keys)} object(s) but no complete artifact (e.g. {keys[0]}); "
                       "choose another output or remove them")


def push(local: Path, uri: str) -> dict:
    """Publishes the artifact in `local` to `uri` (s3://). Returns {"uri", "version", "files", "already_there"}.
    BadInput for a tampered local artifact or a destination holding another version; Unavailable when the
    store cannot be reached."""
    loc = parse_s3(uri)
    verify_artifact(local)  # every file against fslm.json, nothing unlisted
    manifest = (local / MANIFEST).read_bytes()
    version = hashlib.sha256(manifest).hexdigest()
    client = _client()
    check_destination(uri, manifest)
    if _existing_manifest(client, loc) == manifest:
        return {"uri": loc.uri, "version": version, "files": len(hash_tree(local)), "already_there": True}
    written: list[str] = []
    try:
        for rel in sorted(hash_tree(local)):
            key = loc.key(rel)
            client.upload_file(str(local / rel), loc.bucket, key)
            written.append(key)
        client.put_object(Bucket=loc.bucket, Key=loc.key(MANIFEST), Body=manifest)
    except BaseException as e:
        for i in range(0, len(written), 1000):
            try:
                client.delete_objects(Bucket=loc.bucket, Delete={"Objects": [{"Key": k} for k in written[i:i + 1000]], "Quiet": True})
            except Exception:  # the original failure is the one to report
                pass
        if isinstance(e, Exception):
            raise _store_error(loc, "upload", e) from e
        raise
    return {"uri": loc.uri, "version": version, "files": len(written), "already_there": False}
