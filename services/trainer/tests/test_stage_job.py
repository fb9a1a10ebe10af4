"""stage-job: the Kubernetes Job's environment becomes a finetune; progress lands on the Pod's
`fslm.dev/progress` annotation (here through a recorded API, as `kubectl proxy` would serve it) and
the metrics in the termination message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import json_lines, write_jsonl
from fslm_trainer.tracing import parse_traceparent
from test_finetune_tiny import sums

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class KubeApi:
    def __init__(self):
        self.patches: list[tuple[str, str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_PATCH(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.patches.append((self.path, self.headers["Content-Type"], body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def job_env(models, tmp_path, **extra):
    data = write_jsonl(tmp_path / "final.jsonl", sums(24))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FSLM_", "KUBERNETES_", "POD_"))}
    env.update({
        "FSLM_RUN": "run-1", "FSLM_NAMESPACE": "ml", "FSLM_STAGE": "final", "FSLM_BASE_MODEL": str(models["tiny"]),
        "FSLM_DATASET": data.as_uri(), "FSLM_OUTPUT": (tmp_path / "models" / "run-1" / "final").as_uri(),
        "FSLM_LORA_RANK": "4", "FSLM_LORA_ALPHA": "8", "FSLM_LORA_DROPOUT": "0", "FSLM_LORA_TARGETS": "q_proj,v_proj",
        "FSLM_MAX_STEPS": "4", "TRACEPARENT": TRACEPARENT, "POD_NAME": "run-1-final-1-abcde", "POD_NAMESPACE": "ml",
        "FSLM_TERMINATION_LOG": str(tmp_path / "termination-log"), "FSLM_BATCH_SIZE": "4", "FSLM_LR": "1e-2",
        "FSLM_MAX_LENGTH": "64", "FSLM_THREADS": "1", **extra,
    })
    return env


def test_the_jobs_environment_drives_a_finetune_that_reports_to_the_pod_and_termination_message(models, tmp_path):
    api = KubeApi()
    env = job_env(models, tmp_path, FSLM_KUBE_API_URL=api.url)
    run = subprocess.run([sys.executable, "-m", "fslm_trainer", "stage-job"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    out = tmp_path / "models" / "run-1" / "final"
    manifest = json.loads((out / "fslm.json").read_text())
    assert manifest["training_run"] == "run-1" and manifest["stage"] == "final" and manifest["name"] == "run-1-final"
    assert manifest["trace_id"] == parse_traceparent(TRACEPARENT).trace_id
    assert manifest["adapter"]["rank"] == 4 and manifest["adapter"]["target_modules"] == ["q_proj", "v_proj"]
    assert manifest["adapter"]["alpha"] == 8 and manifest["adapter"]["training"]["max_steps"] == 4

    steps = [r for r in json_lines(run.stdout) if r.get("event") == "step"]
    assert [r["step"] for r in steps] == [1, 2, 3, 4] and all(r["trace_id"] == manifest["trace_id"] for r in steps)

    assert api.patches, "no progress annotation was written"
    path, ctype, body = api.patches[-1]
    assert path == "/api/v1/namespaces/ml/pods/run-1-final-1-abcde" and ctype == "application/merge-patch+json"
    progress = json.loads(body["metadata"]["annotations"]["fslm.dev/progress"])
    assert progress["step"] == 4 and progress["total"] == 4 and progress["eta_s"] == 0
    assert {"loss", "eval_loss", "tokens_per_s"} <= set(progress)

    message = json.loads((tmp_path / "termination-log").read_text())
    assert message["steps"] == 4 and message["eval_loss"] > 0 and message["train_loss"] > 0
    assert len(json.dumps(message)) < 4096
    status = json.loads((tmp_path / "models" / "run-1" / ".final.work" / "status.json").read_text())
    assert status["phase"] == "succeeded" and status["step"] == 4


def test_a_job_with_bad_input_exits_2_and_says_why_in_the_termination_message(models, tmp_path):
    env = job_env(models, tmp_path, FSLM_LORA_RANK="many")
    run = subprocess.run([sys.executable, "-m", "fslm_trainer", "stage-job"], env=env, capture_output=True, text=True)
    assert run.returncode == 2
    message = json.loads((tmp_path / "termination-log").read_text())
    assert message["exit_code"] == 2 and "FSLM_LORA_RANK" in message["error"]
    env["FSLM_LORA_RANK"] = "4"
    del env["FSLM_DATASET"]
    run = subprocess.run([sys.executable, "-m", "fslm_trainer", "stage-job"], env=env, capture_output=True, text=True)
    assert run.returncode == 2 and "FSLM_DATASET" in run.stderr


def test_outside_a_cluster_the_annotation_is_skipped_silently(tmp_path):
    from fslm_trainer.k8s_pod import PodAnnotator

    no_cluster = PodAnnotator({"POD_NAME": "p", "POD_NAMESPACE": "ml", "FSLM_KUBE_SA_DIR": str(tmp_path)})
    assert not no_cluster.enabled
    no_cluster.update({"step": 1})
    no_cluster.close()
    in_cluster = PodAnnotator({"POD_NAME": "p", "POD_NAMESPACE": "ml", "KUBERNETES_SERVICE_HOST": "10.0.0.1",
                               "KUBERNETES_SERVICE_PORT": "443", "FSLM_KUBE_SA_DIR": str(tmp_path)})
    assert in_cluster.enabled and in_cluster.base == "https://10.0.0.1:443"
    in_cluster.close(0)
