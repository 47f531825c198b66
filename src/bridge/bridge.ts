/**
 * The NATS → Temporal bridge: a durable JetStream pull consumer on SIGNALS that turns agent
 * messages into signal-with-starts on their correlation's workflow. A correlation's messages that
 * arrive close together go in one batch signal. A message is acknowledged only once Temporal has
 * it, or once it is safely in the DLQ; nothing is dropped on the way.
 */
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import {
  AckPolicy,
  type ConsumerConfig,
  ConsumerEvents,
  type ConsumerMessages,
  DeliverPolicy,
  ErrorCode,
  headers as natsHeaders,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  millis,
  nanos,
} from 'nats';
import { BreakerView } from '../agent-health/view';
import type { Policy } from '../contract/policy';
import type { Config } from '../config';
import {
  type DeclaredStream,
  declareDlqStream,
  declareSignalsStream,
  describeStreamChange,
  DLQ_SUBJECT,
  reconcileStream,
  SIGNAL_SUBJECTS,
  SIGNALS_STREAM,
} from '../nats/streams';
import type { Logger } from '../observability/logger';
import type { OrchestratorMetrics } from '../observability/metrics';
import { type ReceivedMessage, withMessageSpans } from '../observability/trace-context';
import { type AgentSignalEnvelope, WORKFLOW_TYPE, workflowIdFor } from '../shared/correlation-api';
import { correlationSignalWithStart, correlationStart } from '../shared/correlation-start';
import { type ClosedRun, fateAfterClose, readClosedRun } from './closed-run';
import { expiredBecause, signalHorizonMs, unsafeSignalsAge } from './expiry';
import { Gatherer } from './gather';
import { type DlqReason, parseAgentMessage } from './parse';
import { ReportedAgents } from './reported-agents';
import { permanentRejection } from './temporal-errors';

export interface BridgeOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  client: Client;
  taskQueue: string;
  /** The policy new correlations run under: passed in their start, and its expected agents close a batch early. */
  policy: Policy;
  logger: Logger;
  /** Durable consumer name; bridges that share it share the work. */
  durableName: string;
  maxMessageBytes: number;
  /** Messages handled at once (waiting in a batch window or being handed over). */
  concurrency: number;
  /**
   * How long a correlation's first message waits for the others before they go to Temporal together (ms); 0 sends each
   * at once.
   */
  batchWindowMs: number;
  /** SIGNALS and SIGNALS_DLQ as configured: created, or brought to these limits, at start. */
  streams: { signals: DeclaredStream; dlq: DeclaredStream };
  /**
   * Asked at each new correlation: ask Temporal to hand its first workflow task back with the start?
   * Only when `client` is on the connection of a worker of the task queue, in this process, and
   * (under Worker Versioning) that worker's build gets all new work (DeploymentRoutingWatch).
   */
  eagerStart: () => boolean;
  /** How long JetStream waits for an ack before redelivering (a crashed bridge's messages come back after this). */
  ackWaitMs: number;
  /** Messages delivered but not yet acknowledged, across all bridges on the consumer. */
  maxAckPending: number;
  metrics?: OrchestratorMetrics;
  /** How often the agents' circuit breakers are read (ms), when the policy has them on. */
  breakerPollMs?: number;
}

export interface BridgeStats {
  received: number;
  signalled: number;
  /** Calls (start or signal-with-start) that Temporal accepted; fewer than `signalled` when messages went together. */
  batches: number;
  /** Correlations this bridge started with their first messages in the input, and how many of those eagerly. */
  started: number;
  startedEagerly: number;
  duplicates: number;
  dlq: Partial<Record<DlqReason, number>>;
  retries: number;
}

const MAX_RETRY_DELAY_MS = 30_000;
/** How often the bridge logs its counts. */
const STATS_INTERVAL_MS = 30_000;
/**
 * The most message bytes one batch carries: Temporal refuses a payload over 2 MiB (its default
 * `limit.blobSize.error`), and a batch of many large messages could otherwise reach it.
 */
const MAX_BATCH_BYTES = 1024 * 1024;

/** A configuration the bridge refuses to run with; the message says what to change. */
class BridgeConfigError extends Error {
  override readonly name = 'BridgeConfigError';
}

/** The consumer settings the bridge owns; JetStream can change each of them on a live consumer. */
type ConsumerSettings = Required<
  Pick<ConsumerConfig, 'filter_subject' | 'ack_wait' | 'max_deliver' | 'max_ack_pending'>
>;

/** Each setting of `wanted` that `actual` has otherwise, in words (durations in ms). */
function consumerDifferences(
  actual: Partial<ConsumerConfig>,
  wanted: ConsumerSettings,
): Array<{ setting: string; was: string; now: string }> {
  const shown = (key: keyof ConsumerSettings, value: unknown): string =>
    value === undefined ? 'unset' : key === 'ack_wait' ? `${millis(Number(value))} ms` : String(value);
  return (Object.keys(wanted) as Array<keyof ConsumerSettings>)
    .filter((key) => actual[key] !== wanted[key])
    .map((key) => ({ setting: key, was: shown(key, actual[key]), now: shown(key, wanted[key]) }));
}

/** A parsed message on its way to Temporal. */
interface Pending {
  message: JsMsg;
  envelope: AgentSignalEnvelope;
  /** When the bridge took it (ms since the epoch): its span starts there. */
  receivedAtMs: number;
}

/** What a message's span says of it. */
function received({ message, envelope, receivedAtMs }: Pending): ReceivedMessage {
  return {
    subject: message.subject,
    headers: message.headers,
    receivedAtMs,
    streamSeq: message.seq,
    agent: envelope.signal.agent_name,
  };
}

/** A counting semaphore: the consume loop waits for a free slot before taking the next message. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];

  constructor(private readonly size: number) {
    this.free = size;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) return next();
    this.free++;
    if (this.free === this.size) this.idle.splice(0).forEach((resolve) => resolve());
  }

  /** Resolves when nothing is in flight. */
  drained(): Promise<void> {
    return this.free === this.size ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }
}

/** A bridge as configured (ORCH_BRIDGE_*, ORCH_SIGNALS_*, ORCH_DLQ_*, the policy), on the given connections. */
export function configuredBridge(
  config: Pick<Config, 'bridge' | 'streams' | 'policy' | 'taskQueue'>,
  deps: Pick<BridgeOptions, 'js' | 'jsm' | 'client' | 'logger' | 'metrics' | 'eagerStart'>,
): SignalBridge {
  return new SignalBridge({
    ...deps,
    ...config.bridge,
    taskQueue: config.taskQueue,
    policy: config.policy,
    streams: { signals: declareSignalsStream(config.streams), dlq: declareDlqStream(config.streams) },
  });
}

export class SignalBridge {
  private readonly stats: BridgeStats = {
    received: 0,
    signalled: 0,
    batches: 0,
    started: 0,
    startedEagerly: 0,
    duplicates: 0,
    dlq: {},
    retries: 0,
  };
  private readonly slots: Slots;
  private readonly reported: ReportedAgents;
  /** A correlation's messages go to Temporal in batches, one batch at a time (see gather.ts). */
  private readonly batches: Gatherer<Pending>;
  private messages?: ConsumerMessages;
  private stopping = false;
  private consuming = false;
  private loop?: Promise<void>;
  /** Messages older than this (ms) are `expired`; set at start from the namespace's retention. */
  private horizonMs = Number.POSITIVE_INFINITY;
  private statsTimer?: ReturnType<typeof setInterval>;
  /** Settles once the bridge has stopped; the same promise for every caller of stop(). */
  private stopped?: Promise<void>;
  /**
   * The expected agents' circuit breakers, when the policy has them on: new correlations do not wait for an open one.
   */
  private readonly breakers?: BreakerView;

  constructor(private readonly options: BridgeOptions) {
    this.slots = new Slots(options.concurrency);
    if (options.policy.breaker.enabled) {
      const { client, policy, logger, breakerPollMs, metrics } = options;
      this.breakers = new BreakerView(client, policy.expected_agents, logger, policy.timeout_ms, breakerPollMs, (s) =>
        metrics?.recordBreaker(s),
      );
    }
    this.reported = new ReportedAgents(options.policy.expected_agents);
    this.batches = new Gatherer<Pending>({
      windowMs: options.batchWindowMs,
      isComplete: (corrId, batch) =>
        this.reported.completes(
          corrId,
          batch.map((p) => p.envelope.signal.agent_name),
        ),
      // Each message's trace context continues through its hand-over (see trace-context.ts).
      handOver: (corrId, batch) => withMessageSpans(corrId, batch.map(received), () => this.handOver(corrId, batch)),
      batchLimit: { maxWeight: MAX_BATCH_BYTES, weightOf: (p) => p.message.data.byteLength },
    });
  }

  /**
   * Checks that no message can outlive its correlation's run in Temporal, creates the streams and
   * the durable consumer or brings them to the configuration (logging each change), then starts
   * consuming.
   */
  async start(): Promise<void> {
    const { jsm, streams, logger } = this.options;
    const retentionMs = await this.namespaceRetentionMs();
    const unsafe = unsafeSignalsAge(millis(streams.signals.max_age), retentionMs);
    if (unsafe) throw new BridgeConfigError(unsafe);
    this.horizonMs = signalHorizonMs(retentionMs);
    for (const stream of [streams.signals, streams.dlq]) {
      for (const change of await reconcileStream(jsm, stream)) logger.warn(change, describeStreamChange(change));
    }
    await this.ensureConsumer();
    this.breakers?.start();
    this.loop = this.consumeUntilStopped();
    this.statsTimer = setInterval(() => logger.info(this.snapshot(), 'bridge stats'), STATS_INTERVAL_MS);
  }

  /** How long Temporal keeps a closed correlation's run: the namespace's retention. */
  private async namespaceRetentionMs(): Promise<number> {
    const { client } = this.options;
    const { config } = await client.workflowService.describeNamespace({ namespace: client.options.namespace });
    const retentionMs = optionalTsToMs(config?.workflowExecutionRetentionTtl);
    if (!retentionMs)
      throw new BridgeConfigError(
        `namespace ${client.options.namespace} reports no workflow retention; the bridge needs it to know how long a closed correlation stays known`,
      );
    return retentionMs;
  }

  /** Stops taking messages and waits for those in flight to be acknowledged or nak'ed. */
  stop(): Promise<void> {
    this.stopped ??= this.drain();
    return this.stopped;
  }

  private async drain(): Promise<void> {
    this.stopping = true;
    clearInterval(this.statsTimer);
    this.breakers?.stop();
    await this.messages?.close();
    await this.loop;
    this.batches.flushAll();
    await this.slots.drained();
    this.options.logger.info(this.snapshot(), 'bridge stopped');
  }

  /** True while a consume loop is open on the durable consumer. */
  isConsuming(): boolean {
    return this.consuming && !this.stopping;
  }

  snapshot(): BridgeStats {
    return { ...this.stats, dlq: { ...this.stats.dlq } };
  }

  /**
   * Creates the durable consumer, or brings an existing one to the configured settings (ack wait,
   * max ack pending, max deliver, filter: JetStream changes these in place), logging each
   * difference it fixed. An ack policy other than explicit cannot be changed in place and is refused.
   */
  private async ensureConsumer(): Promise<void> {
    const { jsm, durableName, logger } = this.options;
    const wanted = this.consumerSettings();
    const existing = await jsm.consumers.info(SIGNALS_STREAM, durableName).catch(() => undefined);
    if (!existing) {
      await jsm.consumers.add(SIGNALS_STREAM, {
        durable_name: durableName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...wanted,
      });
      return;
    }
    if (existing.config.ack_policy !== AckPolicy.Explicit) {
      throw new Error(
        `consumer ${durableName} on ${SIGNALS_STREAM} acknowledges with ack policy "${existing.config.ack_policy}", but the bridge acknowledges each message: ` +
          `delete it (nats consumer rm ${SIGNALS_STREAM} ${durableName}) or set ORCH_BRIDGE_DURABLE to a new name`,
      );
    }
    const changed = consumerDifferences(existing.config, wanted);
    if (changed.length === 0) return;
    await jsm.consumers.update(SIGNALS_STREAM, durableName, wanted);
    for (const { setting, was, now } of changed)
      logger.warn(
        { consumer: durableName, setting, was, now },
        `consumer ${durableName}: ${setting} was ${was}, set to ${now}`,
      );
  }

  /** What the bridge's configuration says the durable consumer must be. */
  private consumerSettings(): ConsumerSettings {
    return {
      filter_subject: SIGNAL_SUBJECTS,
      ack_wait: nanos(this.options.ackWaitMs),
      // Never give up on a message: while Temporal is down it is nak'ed with a backoff instead.
      max_deliver: -1,
      max_ack_pending: this.options.maxAckPending,
    };
  }

  /** Consumes until stopped; if the consumer vanishes or the iterator ends, re-creates it and goes on. */
  private async consumeUntilStopped(): Promise<void> {
    const { js, logger, durableName, concurrency } = this.options;
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(SIGNALS_STREAM, durableName);
        this.messages = await consumer.consume({ max_messages: concurrency * 2 });
        this.consuming = true;
        void this.logConsumerStatus(this.messages);
        for await (const message of this.messages) {
          await this.slots.acquire();
          void this.handle(message).finally(() => this.slots.release());
        }
      } catch (error) {
        logger.warn({ err: error }, 'consuming SIGNALS failed; retrying in 1s');
      }
      this.consuming = false;
      if (!this.stopping) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await this.ensureConsumer().catch((error: unknown) =>
          logger.warn({ err: error }, 'cannot re-create the consumer yet'),
        );
      }
    }
  }

  /**
   * Logs what an operator must know (missed heartbeats, a deleted consumer), not every pull. A
   * deleted consumer never comes back by itself (the client would look for it forever), so the
   * iterator is stopped and the consume loop re-creates it.
   */
  private async logConsumerStatus(messages: ConsumerMessages): Promise<void> {
    const notable = new Set<string>(Object.values(ConsumerEvents));
    for await (const status of await messages.status()) {
      if (!notable.has(status.type)) continue;
      this.options.logger.warn({ consumer_event: status.type, data: status.data }, `consumer ${status.type}`);
      if (status.type === ConsumerEvents.ConsumerDeleted || status.type === ConsumerEvents.ConsumerNotFound)
        messages.stop();
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    const receivedAtMs = Date.now();
    this.stats.received++;
    const parsed = parseAgentMessage(message.subject, message.data, this.options.maxMessageBytes);
    if (!parsed.ok) {
      await this.deadLetter(message, parsed.reason, parsed.detail).catch((error: unknown) =>
        this.retryLater([message], error, 'cannot publish to the DLQ'),
      );
      return;
    }
    const expired = expiredBecause(
      { storedAtMs: millis(message.info.timestampNanos), enrichedAt: parsed.signal.enriched_at },
      Date.now(),
      this.horizonMs,
    );
    if (expired) {
      await this.deadLetter(message, 'expired', expired).catch((error: unknown) =>
        this.retryLater([message], error, 'cannot publish to the DLQ'),
      );
      return;
    }
    // handOver settles every message itself; a rejection here would be a bug, and still must not lose the message.
    await this.batches
      .add(parsed.signal.corr_id, {
        message,
        envelope: { message_id: String(message.seq), signal: parsed.signal },
        receivedAtMs,
      })
      .catch((error: unknown) => this.retryLater([message], error, 'cannot hand the signal to Temporal'));
  }

  /**
   * One call for a correlation's batch. The first messages start its actor, in the start input
   * (eagerly, when this bridge runs in a worker's process); later ones are signalled to it. A
   * closed correlation is never started again (REJECT_DUPLICATE): each message of the batch is
   * then a duplicate or late. Never rejects: every message is acknowledged or nak'ed here.
   */
  private async handOver(corrId: string, batch: Pending[]): Promise<void> {
    const { client, policy, taskQueue, logger, metrics } = this.options;
    const envelopes = batch.map((p) => p.envelope);
    // Only a start reads the breakers: a running correlation ignores the start input.
    const first = !this.reported.has(corrId);
    const degraded = first ? (this.breakers?.degradedAgents() ?? []) : [];
    try {
      const started = first && (await this.startCorrelation(corrId, envelopes, degraded));
      if (!started)
        await client.workflow.signalWithStart(
          WORKFLOW_TYPE,
          correlationSignalWithStart(corrId, policy, taskQueue, envelopes, degraded),
        );
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return await this.onClosedCorrelation(corrId, batch);
      const rejection = permanentRejection(error);
      if (rejection) return await this.onRejected(corrId, batch, rejection);
      return this.retryLater(
        batch.map((p) => p.message),
        error,
        'cannot hand the signals to Temporal',
      );
    }
    for (const { message } of batch) message.ack();
    this.stats.batches++;
    this.stats.signalled += batch.length;
    metrics?.signalsReceived.inc({ outcome: 'signalled' }, batch.length);
    this.reported.record(
      corrId,
      batch.map((p) => p.envelope.signal.agent_name),
    );
    logger.debug(
      {
        corr_id: corrId,
        workflow_id: workflowIdFor(corrId),
        stream_seqs: batch.map((p) => p.message.seq),
        deliveries: batch.map((p) => p.message.info.deliveryCount),
      },
      'signalled',
    );
  }

  /** Starts the correlation with these messages in its input; false when it exists already, running or closed. */
  private async startCorrelation(
    corrId: string,
    envelopes: AgentSignalEnvelope[],
    degraded: string[],
  ): Promise<boolean> {
    const { client, policy, taskQueue, eagerStart } = this.options;
    try {
      const handle = await client.workflow.start(
        WORKFLOW_TYPE,
        correlationStart(corrId, policy, taskQueue, envelopes, eagerStart(), degraded),
      );
      this.stats.started++;
      if (handle.eagerlyStarted) this.stats.startedEagerly++;
      return true;
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw error;
    }
  }

  /**
   * Temporal refused the call in a way no retry can change (an invalid argument, a denied
   * permission). One message of a batch can be the cause, so each goes again alone; a message
   * refused on its own goes to the DLQ with Temporal's reason.
   */
  private async onRejected(corrId: string, batch: Pending[], rejection: string): Promise<void> {
    if (batch.length > 1) {
      for (const pending of batch) await this.handOver(corrId, [pending]);
      return;
    }
    const [{ message }] = batch;
    await this.deadLetter(
      message,
      'temporal_rejected',
      `Temporal refused the signal for correlation ${corrId}: ${rejection}`,
    ).catch((error: unknown) => this.retryLater([message], error, 'cannot publish to the DLQ'));
  }

  /** Temporal or NATS is unavailable: the messages wait in JetStream and come back later, with backoff. */
  private retryLater(messages: JsMsg[], error: unknown, what: string): void {
    for (const message of messages) {
      this.stats.retries++;
      this.options.metrics?.signalsReceived.inc({ outcome: 'retried' });
      const delay = Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** (message.info.deliveryCount - 1));
      message.nak(delay);
      this.options.logger.warn(
        {
          subject: message.subject,
          stream_seq: message.seq,
          delivery: message.info.deliveryCount,
          err: error,
          retry_in_ms: delay,
        },
        `${what}; will retry`,
      );
    }
  }

  /**
   * The correlation has already closed. A message its run received (a redelivery: the bridge died
   * between signalling and acknowledging) has had its fate there, used, counted as a duplicate or
   * recorded as late, so it is a duplicate here, and so is the same content republished under a
   * new id; any other arrived too late. Until the run's history can be read, the messages
   * wait in JetStream.
   */
  private async onClosedCorrelation(corrId: string, batch: Pending[]): Promise<void> {
    let run: ClosedRun;
    try {
      run = await readClosedRun(this.options.client, corrId);
    } catch (error) {
      return this.retryLater(
        batch.map((p) => p.message),
        error,
        `cannot read the history of closed correlation ${corrId}`,
      );
    }
    for (const { message, envelope } of batch) {
      if (fateAfterClose(run, envelope.message_id, envelope.signal) === 'duplicate') {
        this.stats.duplicates++;
        this.options.metrics?.signalsReceived.inc({ outcome: 'duplicate' });
        message.ack();
        continue;
      }
      const detail = run.decision
        ? `correlation ${corrId} was decided at ${run.decision.orchestrated_at}`
        : `correlation ${corrId} has closed without a decision`;
      await this.deadLetter(message, 'late', detail).catch((error: unknown) =>
        this.retryLater([message], error, 'cannot publish to the DLQ'),
      );
    }
  }

  /** Publishes the original bytes to the DLQ with the reason and origin in headers, then acks. */
  private async deadLetter(message: JsMsg, reason: DlqReason, detail: string): Promise<void> {
    const headers = natsHeaders();
    headers.set('Orch-Dlq-Reason', reason);
    headers.set('Orch-Dlq-Detail', detail.replace(/[\r\n]+/g, ' ').slice(0, 1_024));
    headers.set('Orch-Original-Subject', message.subject);
    headers.set('Orch-Original-Seq', String(message.seq));
    // The msgID makes a redelivered bad message land in the DLQ once.
    const publish = (data: Uint8Array) =>
      this.options.js.publish(DLQ_SUBJECT, data, { headers, msgID: `dlq-${message.seq}` });
    await publish(message.data).catch(async (error: unknown) => {
      // A message just under NATS's max_payload no longer fits with the headers added, and would be
      // retried forever. Its entry then goes without the body, which stays in SIGNALS at its sequence.
      if ((error as { code?: string }).code !== ErrorCode.MaxPayloadExceeded) throw error;
      headers.set('Orch-Dlq-Body-Omitted', `${message.data.byteLength} bytes; read SIGNALS at Orch-Original-Seq`);
      await publish(new Uint8Array(0));
    });
    message.ack();
    this.stats.dlq[reason] = (this.stats.dlq[reason] ?? 0) + 1;
    this.options.metrics?.signalsReceived.inc({ outcome: 'dlq' });
    this.options.metrics?.dlq.inc({ reason });
    this.options.logger.warn(
      { subject: message.subject, stream_seq: message.seq, reason, detail },
      `signal sent to the DLQ: ${reason}`,
    );
  }
}
