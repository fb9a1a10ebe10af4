// The chaos load: `concurrency` workers, each running one streaming request after another (workers
// alternate between gRPC RunStream and OpenAI HTTP SSE) until the load stops; every request is recorded
// with the fault window it started in and how it ended.
import type { StackServiceClient } from '../services/shared/generated/fslm/v1/StackService.ts';
import { grpcStreaming, httpStreaming, type Door, type Outcome } from './requests.ts';

/** One request of the run. */
export interface RequestRecord {
  id: string;
  door: Door;
  /** Index of the fault window it started in. */
  window: number;
  outcome: Outcome | null;
}

export interface LoadOptions {
  concurrency: number;
  /** Each request's deadline, from its start (ms). */
  deadlineMs: number;
  client: () => StackServiceClient;
  httpBase: string;
  model: string;
  /** The fault window now (the load stamps each request with it). */
  window: () => number;
}

const INPUTS = ['a lighthouse', 'a glacier', 'a harbour at dawn', 'rivers', 'the night sky', 'a mountain village', 'old maps', 'bees'];

export class Load {
  readonly records: RequestRecord[] = [];
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    this.workers = Array.from({ length: this.options.concurrency }, (_, w) => this.worker(w % 2 === 0 ? 'grpc' : 'http'));
  }

  /** Starts no more requests and resolves once every request has ended (each is bounded by its deadline + grace). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async worker(door: Door): Promise<void> {
    while (!this.stopped) {
      const n = this.records.length;
      const record: RequestRecord = { id: `chaos-${n}`, door, window: this.options.window(), outcome: null };
      this.records.push(record);
      const request = { input: INPUTS[n % INPUTS.length], requestId: record.id, deadlineMs: Date.now() + this.options.deadlineMs };
      record.outcome = door === 'grpc'
        ? await grpcStreaming(this.options.client(), request)
        : await httpStreaming(this.options.httpBase, this.options.model, request);
    }
  }
}
