"""Inputs and outputs named by path or URI. `file://` and plain paths work now; other schemes
(`s3://`, `gs://`) are meant to plug in here later: a store fetches an input to a local path and
publishes a finished local directory, so the commands only ever see local paths."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from .exitcodes import BadInput

LATER_SCHEMES = ("s3", "gs", "az", "hf", "http", "https")


def scheme_of(uri: str) -> str:
    parsed = urlparse(uri)
    # A Windows-less world: a one-letter scheme would be a drive; "" is a plain path.
    return parsed.scheme if len(parsed.scheme) > 1 else ""


def local_path(uri: str, what: str) -> Path:
    """The local path a `file://` URI or a plain path names; BadInput for anything else."""
    if not uri:
        raise BadInput(f"{what}: no path or URI given")
    scheme = scheme_of(uri)
    if scheme == "":
        return Path(uri).expanduser()
    if scheme == "file":
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise BadInput(f"{what}: file URI with a host ({uri}); use file:///absolute/path")
        return Path(unquote(parsed.path))
    if scheme in LATER_SCHEMES:
        raise BadInput(f"{what}: {scheme}:// is not supported yet ({uri}); mount the data and pass a file:// URI or a path")
    raise BadInput(f"{what}: unknown URI scheme {scheme!r} in {uri}")


def input_file(uri: str, what: str) -> Path:
    path = local_path(uri, what)
    if not path.is_file():
        raise BadInput(f"{what}: {path} does not exist or is not a file")
    return path


def output_dir(uri: str, what: str) -> Path:
    """Where to write an output directory. Its parent is created; the directory itself is not."""
    path = local_path(uri, what).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
