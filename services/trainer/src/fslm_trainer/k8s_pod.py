"""Writes the `fslm.dev/progress` annotation on the trainer's own Pod, which the controller reads.

Plain HTTPS with the in-cluster service account (token and CA under
/var/run/secrets/kubernetes.io/serviceaccount, API at KUBERNETES_SERVICE_HOST:PORT). Outside a
cluster, or without POD_NAME, it does nothing. FSLM_KUBE_API_URL overrides the API address (for
`kubectl proxy`, http://127.0.0.1:8001, which needs no token). Patches go out from a background
thread, at most one per `min_interval_s`, latest value wins; a failure is logged once and never
fails training.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from .log import log

ANNOTATION = "fslm.dev/progress"
SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class PodAnnotator:
    def __init__(self, env: dict[str, str] | None = None, min_interval_s: float = 10.0):
        env = dict(os.environ if env is None else env)
        self.pod = env.get("POD_NAME", "")
        sa = Path(env.get("FSLM_KUBE_SA_DIR", str(SA_DIR)))
        self.namespace = env.get("POD_NAMESPACE") or _read(sa / "namespace") or ""
        self.base = env.get("FSLM_KUBE_API_URL", "").rstrip("/")
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT", "443")
        if not self.base and host:
            self.base = f"https://{'[' + host + ']' if ':' in host else host}:{port}"
        self.token_file = sa / "token"
        self.ca_file = sa / "ca.crt"
        self.enabled = bool(self.pod and self.namespace and self.base)
        self.min_interval_s = min_interval_s
        self._latest: dict | None = None
        self._sent_at = 0.0
        self._cond = threading.Condition()
        self._closed = False
        self._warned = False
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="pod-annotator", daemon=True)
            self._thread.start()

    def update(self, progress: dict) -> None:
        if not self.enabled:
            return
        with self._cond:
            self._latest = progress
            self._cond.notify()

    def close(self, timeout_s: float = 5.0) -> None:
        """Sends the latest value now, then stops."""
        if not self._thread:
            return
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._latest is None and not self._closed:
                    self._cond.wait()
                if self._latest is None:
                    return
                wait = self._sent_at + self.min_interval_s - time.monotonic()
                if wait > 0 and not self._closed:
                    self._cond.wait(wait)
                    continue
                value, self._latest = self._latest, None
            self._send(value)
            self._sent_at = time.monotonic()

    def _send(self, progress: dict) -> None:
        url = f"{self.base}/api/v1/namespaces/{quote(self.namespace)}/pods/{quote(self.pod)}"
        body = json.dumps({"metadata": {"annotations": {ANNOTATION: json.dumps(progress, separators=(",", ":"))}}})
        headers = {"Content-Type": "application/merge-patch+json", "Accept": "application/json"}
        token = _read(self.token_file)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        ctx = None
        if url.startswith("https:"):
            ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file.is_file() else None)
        req = urllib.request.Request(url, data=body.encode(), method="PATCH", headers=headers)
        try:
            urllib.request.urlopen(req, timeout=5, context=ctx).read()
        except Exception as e:
            if not self._warned:
                log(f"warning: cannot annotate pod {self.namespace}/{self.pod} with progress ({e}); continuing")
                self._warned = True


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
