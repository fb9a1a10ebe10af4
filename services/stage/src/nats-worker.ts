// The stage's NATS door: the same engine as the gRPC door, subscribed to <prefix>.run and
// <prefix>.describe in the stage's queue group (replicas share the load), <prefix>.cancel (every
// replica), its own replica subject (hand-off appends and starts) and <replica subject>.bounce.*,
// where NATS answers no-responders when a job's reply inbox has lost its subscriber (the job then
// ends). Malformed or expired messages get an error reply, never a crash. Losing the NATS connection
// ends every job held (nobody could receive its result).
import type { Tracer } from '@opentelemetry/api';
import { Events, type Msg, type NatsConnection, type Subscription } from 'nats';
import { busCodec, deadlineOf, DEFAULT_HEARTBEAT_MS, subjects, traceCarrierOf } from '../../shared/bus-codec.ts';
import { errorHeaders, isNoResponders } from '../../shared/bus-errors.ts';
import { ErrorCode, errors, errorMessage, toFslmError, type FslmError } from '../../shared/errors.ts';
import type { StageRun__Output } from '../../shared/generated/fslm/v1/StageRun.ts';
import { extractContext } from '../../shared/telemetry.ts';
import { within } from './bounded.ts';
import { describeModel } from './describe.ts';
import { HANDOFF_MAX_WAIT_MS, NatsJob, type JobContext } from './nats-job.ts';
import { HandoffPrompt } from './nats-handoff.ts';
import { NatsScorer } from './nats-score.ts';
import type { StageMetrics } from './stage-metrics.ts';
import { toGenerateInput } from './request-validation.ts';
import type { InferenceEngine } from './types.ts';

export interface NatsWorkerOptions {
  stack: string;
  stage: string;
  /** Subject prefix (fslm.<stack>.<stage> unless the stack names another). */
  subjectPrefix: string;
  /** This replica's id: a subject token. */
  replica: string;
  model: string;
  modelVersion: string;
  /** The version of the LoRA adapter merged into the model (artifact.ts adapterVersion); '' or absent: none. */
  adapterVersion?: string;
  /** The weights the engine serves (fp32, int8, int4): the stage span's `fslm.precision`. */
  precision?: string;
  tracer: Tracer;
  metrics: StageMetrics;
  /** How long a hand-off job whose run carries no deadline waits for its start (HANDOFF_MAX_WAIT_MS by default). */
  handoffMaxWaitMs?: number;
  log(event: Record<string, unknown>): void;
  /**
   * Hears the worker lose its NATS connection (false) and get it back (true: reconnected, and the server
   * has answered a flush sent after the client re-sent its subscriptions, so it routes work here again).
   */
  onConnection?(connected: boolean): void;
}

/** Jobs a worker holds: generating (or queued in the engine), and hand-offs still waiting for their start. */
export interface WorkerJobs {
  running: number;
  awaitingStart: number;
}

/** How long cancels for requests not seen yet are remembered (a cancel can overtake its run). */
const CANCEL_MEMORY_MS = 60_000;

export class NatsStageWorker {
  private readonly jobs = new Map<string, NatsJob>();
  /** Each job's run, by its bounce token. */
  private readonly runs = new Map<string, { job: NatsJob; done: Promise<void> }>();
  private readonly cancelled = new Map<string, number>();
  private readonly subscriptions: Subscription[] = [];
  private readonly context: JobContext;
  private readonly scorer: NatsScorer;
  private nextToken = 0;
  private stopped = false;
  private isConnected = true;

  constructor(private readonly nc: NatsConnection, private readonly engine: InferenceEngine, private readonly options: NatsWorkerOptions) {
    const controlSubject = subjects.replica(options.subjectPrefix, options.replica);
    this.context = { nc, engine, controlSubject, ...options, handoffMaxWaitMs: options.handoffMaxWaitMs ?? HANDOFF_MAX_WAIT_MS };
    this.scorer = new NatsScorer(nc, engine, options);
  }

  /**
   * Subscribes and waits until the server has the subscriptions; throws when the server refused one (this
   * identity lacks the permission), naming the subject.
   */
  async start(): Promise<void> {
    const { subjectPrefix: prefix } = this.options;
    const refused: string[] = [];
    const guard = (handler: (msg: Msg) => void) => (error: Error | null, msg: Msg) => {
      if (error) {
        refused.push(error.message);
        this.options.log({ event: 'nats-refused', error: error.message });
        return;
      }
      try {
        handler(msg);
      } catch (error) {
        this.options.log({ event: 'handler-error', subject: msg.subject, error: errorMessage(error) });
      }
    };
    this.subscriptions.push(
      this.nc.subscribe(subjects.run(prefix), { queue: prefix, callback: guard((msg) => this.onRun(msg)) }),
      this.nc.subscribe(subjects.describe(prefix), { queue: prefix, callback: guard((msg) => this.onDescribe(msg)) }),
      this.nc.subscribe(subjects.score(prefix), { queue: prefix, callback: guard((msg) => this.scorer.onScore(msg)) }),
      this.nc.subscribe(subjects.cancel(prefix), { callback: guard((msg) => this.onControl(msg)) }),
      this.nc.subscribe(this.context.controlSubject, { callback: guard((msg) => this.onControl(msg)) }),
      this.nc.subscribe(`${this.context.controlSubject}.bounce.*`, { callback: guard((msg) => this.onBounce(msg)) }),
    );
    void this.watchConnection();
    // The server answers a refused subscription before the flush's PONG.
    await this.nc.flush();
    if (refused.length > 0) throw new Error(`NATS refused this stage's subscriptions (check its identity's permissions): ${refused.join('; ')}`);
  }

  /** Whether the NATS connection is up (false while it is reconnecting). */
  get connected(): boolean {
    return this.isConnected && !this.nc.isClosed();
  }

  /** Jobs held now. */
  held(): WorkerJobs {
    let awaitingStart = 0;
    for (const job of this.jobs.values()) if (job.awaitingStart) awaitingStart++;
    return { running: this.jobs.size - awaitingStart + this.scorer.count, awaitingStart };
  }

  /**
   * Stops taking work; jobs in flight end with UNAVAILABLE (so the router retries them elsewhere),
   * waiting at most `timeoutMs` for them to send their replies.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    this.stopped = true;
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
    this.endAll(errors.unavailable('the stage replica is shutting down'));
    await Promise.all([
      within(Promise.allSettled([...this.runs.values()].map((r) => r.done)), timeoutMs),
      this.scorer.stop(errors.unavailable('the stage replica is shutting down'), timeoutMs),
    ]);
    if (this.connected && !this.nc.isDraining()) await within(this.nc.flush(), timeoutMs);
  }

  private endAll(error: FslmError): void {
    for (const job of [...this.jobs.values()]) job.end(error);
  }

  /**
   * Ends every job when the connection drops (their replies could not reach anyone) and tells
   * `onConnection`; after a reconnect, tells it once a flush confirms the re-sent subscriptions.
   */
  private async watchConnection(): Promise<void> {
    let changes = 0;
    for await (const status of this.nc.status()) {
      if (status.type === Events.Disconnect) {
        changes++;
        this.isConnected = false;
        this.options.log({ event: 'nats-disconnected', jobs: this.jobs.size });
        this.options.onConnection?.(false);
        this.endAll(errors.unavailable('the stage replica lost its NATS connection'));
        void this.scorer.stop(errors.unavailable('the stage replica lost its NATS connection'), 0);
      } else if (status.type === Events.Reconnect) {
        const change = ++changes;
        this.isConnected = true;
        this.options.log({ event: 'nats-reconnected' });
        // nats.js re-sends every subscription before the flush's PING: its PONG confirms them. A flush
        // that fails, or answers after a later change, says nothing about the connection now.
        void this.nc.flush().then(
          () => {
            if (change === changes && !this.stopped) this.options.onConnection?.(true);
          },
          () => undefined,
        );
      }
    }
  }

  private onDescribe(msg: Msg): void {
    if (!msg.reply) return;
    msg.respond(busCodec.encodeDescribe(describeModel(this.engine)));
  }

  /** NATS answered a job's heartbeat with no-responders: its reply inbox is gone, so is its requester. */
  private onBounce(msg: Msg): void {
    if (!isNoResponders(msg)) return;
    const entry = this.runs.get(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    entry?.job.end(errors.cancelled('the reply inbox has no subscriber any more (the requester is gone)'));
  }

  private onRun(msg: Msg): void {
    if (!msg.reply) {
      this.refuse(msg, errors.invalidArgument('a run request needs a reply subject'));
      return;
    }
    let run: StageRun__Output;
    try {
      run = busCodec.decodeRun(msg.data);
    } catch (error) {
      this.refuse(msg, errors.invalidArgument(`malformed StageRun: ${errorMessage(error)}`));
      return;
    }
    if (!run.request) {
      this.refuse(msg, errors.invalidArgument('StageRun.request is missing', 'request'));
      return;
    }
    const deadlineMs = deadlineOf(msg.headers);
    const requestId = run.request.request_id;
    if (deadlineMs <= Date.now()) {
      this.refuse(msg, errors.deadlineExceeded('the request arrived after its deadline'), requestId);
      return;
    }
    if (requestId && this.jobs.has(requestId)) {
      this.refuse(msg, errors.invalidArgument(`request ${requestId} is already running here`, 'request.request_id'), requestId);
      return;
    }
    if (requestId && this.cancelled.has(requestId)) {
      this.options.log({ event: 'dropped', request_id: requestId, reason: 'cancelled before it arrived' });
      return;
    }
    if (this.stopped) return;
    let job: NatsJob;
    const token = (this.nextToken++).toString(36);
    try {
      const input = toGenerateInput(run.request, this.engine.limits, this.engine.hasChatTemplate);
      const handoff = run.handoff_sentinel ? HandoffPrompt.open(this.engine, input, run.handoff_sentinel) : null;
      job = new NatsJob(this.context, {
        replyTo: msg.reply, input, attempt: run.attempt || 1, deadlineMs,
        heartbeatMs: run.heartbeat_ms || DEFAULT_HEARTBEAT_MS, handoff, parent: extractContext(traceCarrierOf(msg.headers)),
        bounceSubject: `${this.context.controlSubject}.bounce.${token}`,
      });
    } catch (error) {
      this.refuse(msg, toFslmError(error), requestId);
      return;
    }
    this.jobs.set(job.requestId, job);
    const done = job.run().finally(() => {
      this.jobs.delete(job.requestId);
      this.runs.delete(token);
    });
    this.runs.set(token, { job, done });
  }

  private onControl(msg: Msg): void {
    let control;
    try {
      control = busCodec.decodeControl(msg.data);
    } catch (error) {
      this.refuse(msg, errors.invalidArgument(`malformed StageControl: ${errorMessage(error)}`));
      return;
    }
    const job = this.jobs.get(control.request_id);
    switch (control.action) {
      case 'cancel': {
        const reason = control.cancel?.reason === 'deadline' ? errors.deadlineExceeded('cancelled by the router: deadline') : errors.cancelled();
        if (job) job.end(reason);
        else if (!this.scorer.cancel(control.request_id, reason)) this.remember(control.request_id);
        break;
      }
      case 'append':
        job?.append(Number(control.append!.seq), control.append!.text);
        break;
      case 'start':
        job?.start(control.start!.text, Number(control.start!.deadline_unix_ms));
        if (!job) this.refuse(msg, errors.notFound(`request ${control.request_id} is not held by this replica`), control.request_id);
        break;
      default:
        this.refuse(msg, errors.invalidArgument('StageControl has no action'), control.request_id);
    }
  }

  private remember(requestId: string): void {
    const now = Date.now();
    this.cancelled.set(requestId, now);
    for (const [id, at] of this.cancelled) {
      if (now - at < CANCEL_MEMORY_MS) break;
      this.cancelled.delete(id);
    }
  }

  /** Answers a message that will not be worked on (when it has somewhere to answer). */
  private refuse(msg: Msg, error: FslmError, requestId?: string): void {
    this.options.metrics.refused('nats', error.code);
    this.options.log({ event: 'refused', subject: msg.subject, request_id: requestId ?? null, code: error.code, message: error.message });
    if (msg.reply && error.code !== ErrorCode.Cancelled) {
      this.nc.publish(msg.reply, new Uint8Array(0), { headers: errorHeaders(error, requestId) });
    }
  }
}
