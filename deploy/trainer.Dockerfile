# syntax=docker/dockerfile:1
# The image the training Jobs run: `fslm-trainer stage-job` (the controller's default command), and
# the trainer's other commands (distill, finetune, export, ...). Build from the repository root:
#   docker build -f deploy/trainer.Dockerfile -t ghcr.io/fslm/trainer:0.1.0 .
# PyPI's torch wheel brings its own CUDA libraries (2.13.0: CUDA 13.0); the CUDA base image supplies
# the matching user-space pieces, and the node's NVIDIA driver (>= 580 for CUDA 13) does the rest.
# Not built in the development environment (no Docker engine there); keep it in step with
# services/trainer/requirements.txt.
ARG CUDA_IMAGE=nvidia/cuda:13.0.0-runtime-ubuntu24.04
FROM ${CUDA_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/fslm \
    PATH=/opt/fslm/bin:$PATH \
    HF_HOME=/cache/huggingface \
    FSLM_CACHE=/cache/fslm

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/fslm

# Dependencies first: this layer is reused until requirements.txt changes.
COPY services/trainer/requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

COPY services/trainer /src/trainer
RUN pip install --no-deps /src/trainer \
 && useradd --uid 10001 --create-home trainer \
 && mkdir -p /cache && chown 10001:10001 /cache
COPY stacks /app/stacks
# The stack format's schema (rendered from the Stack CRD), which the trainer checks stack files against.
ENV FSLM_STACK_SCHEMA=/app/stacks/stack.schema.json

# Outputs (file:///models/...) must be writable by uid 10001: give the pod securityContext.fsGroup 10001.
USER 10001
WORKDIR /app
ENTRYPOINT ["fslm-trainer"]
CMD ["stage-job"]
