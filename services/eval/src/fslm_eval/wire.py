"""gRPC stubs for fslm's wire (proto/fslm/v1/*.proto, compiled at import by grpcio-tools: nothing
generated is kept in the tree) and the calls fslm eval makes, each with a deadline."""

from __future__ import annotations

import sys

import grpc

from .paths import PROTO_DIR

if str(PROTO_DIR) not in sys.path:
    sys.path.insert(0, str(PROTO_DIR))

stage_pb, stage_grpc = grpc.protos_and_services("fslm/v1/stage.proto")
stack_pb, stack_grpc = grpc.protos_and_services("fslm/v1/stack.proto")
generation_pb = grpc.protos("fslm/v1/generation.proto")

# Scores and generations can be long on a busy CPU; a single call is still bounded.
MAX_MESSAGE = 64 << 20


def channel(address: str) -> grpc.Channel:
    return grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", MAX_MESSAGE)])


class EvalError(Exception):
    """A system refused or failed a request: the evaluation stops with this message."""


def call(method, request, timeout_s: float, what: str):
    """A unary call with a deadline; a gRPC error becomes EvalError naming what was asked."""
    try:
        return method(request, timeout=timeout_s)
    except grpc.RpcError as e:
        raise EvalError(f"{what}: {e.code().name}: {e.details()}") from None


def stream(method, request, timeout_s: float, what: str) -> list:
    """A server-streaming call with a deadline, collected."""
    try:
        return list(method(request, timeout=timeout_s))
    except grpc.RpcError as e:
        raise EvalError(f"{what}: {e.code().name}: {e.details()}") from None
