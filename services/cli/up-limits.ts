// `fslm up` refuses a stack its stages cannot serve before it serves it: once the stage processes run,
// each replica is asked for its limits (gRPC Describe) and the stack's own parameters are checked
// against them (a stage asked for more new tokens than it allows, a prompt too long before any input).
// Otherwise such a stack would start and then refuse every request.
import { grpcChannelCredentials, type GrpcClientTls } from '../shared/grpc-tls.ts';
import type { DescribeResponse__Output } from '../shared/generated/fslm/v1/DescribeResponse.ts';
import type { ProtoGrpcType } from '../shared/generated/stage.ts';
import { loadGrpcObject } from '../shared/proto.ts';
import { stackLimitProblems, toStageLimits, type StackDefinition } from '../router/src/index.ts';

/** How long one stage replica may take to describe itself. */
const DESCRIBE_TIMEOUT_MS = 10_000;

/** The stack cannot serve a single request with the stages it runs on. */
export class UnservableStackError extends Error {
  constructor(readonly problems: string[]) {
    super(`the stack cannot serve any request with its stages' limits:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'UnservableStackError';
  }
}

function describeReplica(address: string, tls: GrpcClientTls | undefined): Promise<DescribeResponse__Output> {
  const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
  const client = new proto.fslm.v1.StageService(address, grpcChannelCredentials(tls));
  return new Promise<DescribeResponse__Output>((resolve, reject) => {
    client.Describe({}, { deadline: new Date(Date.now() + DESCRIBE_TIMEOUT_MS) }, (error, response) => (error ? reject(error) : resolve(response!)));
  }).finally(() => client.close());
}

/**
 * Describes every replica (`replicas[i]`: the stage name and gRPC address of a running replica; over
 * TLS with `tls`, as the stages' doors require) and throws UnservableStackError listing every problem,
 * once per stage, when the stack cannot serve.
 */
export async function checkStackServable(stack: StackDefinition, replicas: Array<{ stage: string; grpc: string }>, tls?: GrpcClientTls): Promise<void> {
  const described = await Promise.all(replicas.map(async (r) => ({ stage: r.stage, limits: toStageLimits(r.stage, await describeReplica(r.grpc, tls)) })));
  const problems = new Set<string>();
  // Every replica counts: replicas of one stage may serve different builds.
  for (const one of described) {
    const limits = stack.stages.map((s) => described.find((d) => d.stage === s.name && (s.name !== one.stage || d === one))!.limits);
    for (const problem of stackLimitProblems(stack, limits)) problems.add(problem);
  }
  if (problems.size > 0) throw new UnservableStackError([...problems]);
}
