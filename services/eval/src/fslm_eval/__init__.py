"""fslm eval: evaluates fslm systems (a stack through its router, one stage over gRPC, one artifact
served by a stage process it starts) with lm-eval, beside lm-eval's own `hf` model as a cross-check."""
