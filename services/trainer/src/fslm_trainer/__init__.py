"""fslm trainer: fetch base SLMs, export ONNX stage artifacts with manifests, reference outputs."""
