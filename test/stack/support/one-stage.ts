// One real `fslm stage` process on both doors for a test: a nats-server, the stage (gRPC on a free port,
// NATS worker), a NATS connection and a gRPC client of its StageService; stop() ends all of them.
import * as grpc from '@grpc/grpc-js';
import { connect, type NatsConnection } from 'nats';
import { spawnNatsServer } from '../../../services/cli/up-processes.ts';
import type { StageServiceClient } from '../../../services/shared/generated/fslm/v1/StageService.ts';
import type { ProtoGrpcType } from '../../../services/shared/generated/stage.ts';
import { loadGrpcObject } from '../../../services/shared/proto.ts';
import { startFslm, type FslmProcess } from '../../support/processes.ts';

export interface OneStage {
  stage: FslmProcess;
  nc: NatsConnection;
  client: StageServiceClient;
  stop(): Promise<void>;
}

/** Starts `fslm stage --model MODEL --grpc 127.0.0.1:0 --nats URL ...args`; a failed start stops what it started. */
export async function startOneStage(model: string, args: string[]): Promise<OneStage> {
  const natsServer = spawnNatsServer();
  let stage: FslmProcess | undefined;
  let nc: NatsConnection | undefined;
  let client: StageServiceClient | undefined;
  const stop = async () => {
    client?.close();
    await nc?.close();
    await stage?.stop();
    await natsServer.stop();
  };
  try {
    const url = String((await natsServer.ready).url);
    stage = await startFslm(['stage', '--model', model, '--grpc', '127.0.0.1:0', '--nats', url, ...args]);
    nc = await connect({ servers: url });
    const proto = loadGrpcObject<ProtoGrpcType>(['fslm/v1/stage.proto']);
    client = new proto.fslm.v1.StageService(String(stage.ready.grpc), grpc.credentials.createInsecure());
    return { stage, nc, client, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
