# syntax=docker/dockerfile:1
# The serving and control image: `fslm stage`, `fslm router` and `fslm controller` (the entrypoint is
# the `fslm` CLI; the Deployment picks the command). k8s/base/controller/deployment.yaml runs it as the
# controller. Build from the repository root:
#   docker build -f deploy/fslm.Dockerfile -t ghcr.io/fslm/fslm:0.1.0 .
# onnxruntime-node's CPU binding ships inside its npm package; ONNXRUNTIME_NODE_INSTALL=skip keeps its
# install script from downloading the CUDA provider, which a GPU variant of this image would add.
# Not built in the development environment (no Docker engine there); keep it in step with package.json.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}

ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip

WORKDIR /app
# Dependencies first: this layer is reused until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

COPY bin bin
COPY proto proto
COPY services services
COPY stacks stacks
COPY k8s/base/crd k8s/base/crd

USER node
ENTRYPOINT ["node", "/app/bin/fslm.js"]
CMD ["--help"]
