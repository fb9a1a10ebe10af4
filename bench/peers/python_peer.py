"""Python contenders for the bench, one process each, driven one request at a time so that their rounds
interleave with the engine's (bench/peers/python-peer.ts).

  python_peer.py torch --model HF_DIR --threads 1            HF transformers generate() on PyTorch CPU (P9)
  python_peer.py genai --onnx FILE --artifact DIR --threads 1  onnxruntime-genai on one of the artifact's files (P11)

Protocol: the peer prints one JSON line when ready ({"ready": true, ...versions}); then for each request
line {"ids": [...], "tokens": N} it prints {"ms": wall milliseconds of the generation, "ids": the N
greedy ids}. Greedy, EOS not honoured before N tokens (min length N), batch 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path


class TorchPeer:
    def __init__(self, model_dir: str, threads: int):
        import torch
        from transformers import AutoModelForCausalLM

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.info = {"torch": torch.__version__, "precision": "fp32"}

    def generate(self, ids: list[int], n: int) -> list[int]:
        torch = self.torch
        prompt = torch.tensor([ids], dtype=torch.long)
        with torch.inference_mode():
            out = self.model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n, min_new_tokens=n,
                                      do_sample=False, pad_token_id=0)
        return out[0, len(ids):].tolist()


def genai_config(manifest: dict, onnx_name: str, graph_inputs: set[str], shared: bool, threads: int) -> dict:
    """onnxruntime-genai's description of one of our graphs (the names fslm's exporter and the builder share)."""
    d = manifest["decoder"]
    inputs = {"input_ids": "input_ids", "attention_mask": "attention_mask",
              "past_key_names": "past_key_values.%d.key", "past_value_names": "past_key_values.%d.value"}
    if "position_ids" in graph_inputs:
        inputs["position_ids"] = "position_ids"
    config = json.loads(Path(manifest["_dir"], "config.json").read_text())
    return {
        "model": {
            "bos_token_id": d["bos_token_id"], "eos_token_id": d["eos_token_ids"], "pad_token_id": d["pad_token_id"] or 0,
            "context_length": d["max_position_embeddings"], "type": config["model_type"], "vocab_size": d["vocab_size"],
            "decoder": {
                "filename": onnx_name, "head_size": d["head_dim"], "hidden_size": config["hidden_size"],
                "num_attention_heads": config["num_attention_heads"], "num_hidden_layers": d["num_layers"],
                "num_key_value_heads": d["num_key_value_heads"],
                "session_options": {"intra_op_num_threads": threads, "inter_op_num_threads": 1, "provider_options": []},
                "inputs": inputs,
                "outputs": {"logits": "logits", "present_key_names": "present.%d.key", "present_value_names": "present.%d.value"},
            },
        },
        "search": {"do_sample": False, "num_beams": 1, "past_present_share_buffer": shared, "max_length": d["max_position_embeddings"]},
    }


class GenaiPeer:
    def __init__(self, onnx_file: str, artifact: str, threads: int):
        import onnx
        import onnxruntime_genai as og

        self.og = og
        manifest = json.loads(Path(artifact, "fslm.json").read_text())
        manifest["_dir"] = artifact
        rel = Path(onnx_file).resolve().relative_to(Path(artifact).resolve()).as_posix()
        precision = next(p for p, f in manifest["onnx"].items() if f == rel)
        shared = manifest.get("variants", {}).get(precision, {}).get("kv_cache") == "shared"
        graph_inputs = {i.name for i in onnx.load(onnx_file, load_external_data=False).graph.input}
        self.dir = Path(tempfile.mkdtemp(prefix="fslm-genai-"))
        (self.dir / "model.onnx").symlink_to(Path(onnx_file).resolve())
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(Path(artifact, name), self.dir / name)
        (self.dir / "genai_config.json").write_text(json.dumps(genai_config(manifest, "model.onnx", graph_inputs, shared, threads)))
        self.model = og.Model(str(self.dir))
        self.info = {"onnxruntime_genai": og.__version__ if hasattr(og, "__version__") else "0.18", "precision": precision,
                     "past_present_share_buffer": shared}

    def generate(self, ids: list[int], n: int) -> list[int]:
        og = self.og
        params = og.GeneratorParams(self.model)
        params.set_search_options(max_length=len(ids) + n, min_length=len(ids) + n, do_sample=False)
        generator = og.Generator(self.model, params)
        generator.append_tokens(ids)
        while not generator.is_done():
            generator.generate_next_token()
        return [int(t) for t in generator.get_sequence(0)[len(ids):]]

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["torch", "genai"])
    parser.add_argument("--model")
    parser.add_argument("--onnx")
    parser.add_argument("--artifact")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    peer = TorchPeer(args.model, args.threads) if args.kind == "torch" else GenaiPeer(args.onnx, args.artifact, args.threads)
    try:
        peer.generate([1, 2, 3], 2)  # warm-up
        print(json.dumps({"ready": True, **peer.info}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            start = time.perf_counter()
            out = peer.generate(request["ids"], request["tokens"])
            print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "ids": out}), flush=True)
    finally:
        if isinstance(peer, GenaiPeer):
            peer.close()


if __name__ == "__main__":
    main()
