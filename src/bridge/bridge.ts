/**
 * The NATS → Temporal bridge: a durable JetStream pull consumer on SIGNALS that turns each agent
 * message into a signal-with-start on its correlation's workflow. A message is acknowledged only
 * once Temporal has it, or once it is safely in the DLQ; nothing is dropped on the way.
 */
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  AckPolicy,
  ConsumerEvents,
  type ConsumerMessages,
  DeliverPolicy,
  ErrorCode,
  headers as natsHeaders,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  nanos,
} from 'nats';
import type { AgentSignal } from '../contract/agent-signal';
import type { OrchestrationDecision } from '../contract/decision';
import { DLQ_SUBJECT, ensureSignalStreams, SIGNAL_SUBJECTS, SIGNALS_STREAM } from '../nats/streams';
import type { Logger } from '../observability/logger';
import type { OrchestratorMetrics } from '../observability/metrics';
import { agentSignal, type CorrelationInput, WORKFLOW_TYPE, workflowIdFor } from '../shared/correlation-api';
import { OneAtATime } from './one-at-a-time';
import { type DlqReason, parseAgentMessage } from './parse';

export interface BridgeOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  client: Client;
  taskQueue: string;
  logger: Logger;
  /** Durable consumer name; bridges that share it share the work. */
  durableName: string;
  maxMessageBytes: number;
  /** Messages handled at once. */
  concurrency: number;
  /** How long JetStream waits for an ack before redelivering (a crashed bridge's messages come back after this). */
  ackWaitMs: number;
  /** Messages delivered but not yet acknowledged, across all bridges on the consumer. */
  maxAckPending: number;
  metrics?: OrchestratorMetrics;
}

export interface BridgeStats {
  received: number;
  signalled: number;
  duplicates: number;
  dlq: Partial<Record<DlqReason, number>>;
  retries: number;
}

const MAX_RETRY_DELAY_MS = 30_000;

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

export class SignalBridge {
  private readonly stats: BridgeStats = { received: 0, signalled: 0, duplicates: 0, dlq: {}, retries: 0 };
  private readonly slots: Slots;
  /** A correlation's messages go to Temporal one at a time (see one-at-a-time.ts). */
  private readonly handovers = new OneAtATime();
  private messages?: ConsumerMessages;
  private stopping = false;
  private consuming = false;
  private loop?: Promise<void>;

  constructor(private readonly options: BridgeOptions) {
    this.slots = new Slots(options.concurrency);
  }

  /** Creates the streams and the durable consumer if missing, then starts consuming. */
  async start(): Promise<void> {
    await ensureSignalStreams(this.options.jsm);
    await this.ensureConsumer();
    this.loop = this.consumeUntilStopped();
  }

  /** Stops taking messages and waits for those in flight to be acknowledged or nak'ed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.loop;
    await this.slots.drained();
  }

  /** True while a consume loop is open on the durable consumer. */
  isConsuming(): boolean {
    return this.consuming && !this.stopping;
  }

  snapshot(): BridgeStats {
    return { ...this.stats, dlq: { ...this.stats.dlq } };
  }

  private async ensureConsumer(): Promise<void> {
    const { jsm, durableName, ackWaitMs, maxAckPending } = this.options;
    try {
      await jsm.consumers.info(SIGNALS_STREAM, durableName);
    } catch {
      await jsm.consumers.add(SIGNALS_STREAM, {
        durable_name: durableName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: SIGNAL_SUBJECTS,
        ack_wait: nanos(ackWaitMs),
        // Never give up on a message: while Temporal is down it is nak'ed with a backoff instead.
        max_deliver: -1,
        max_ack_pending: maxAckPending,
      });
    }
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
        await this.ensureConsumer().catch((error: unknown) => logger.warn({ err: error }, 'cannot re-create the consumer yet'));
      }
    }
  }

  /** Logs what an operator must know (missed heartbeats, a deleted consumer), not every pull. */
  private async logConsumerStatus(messages: ConsumerMessages): Promise<void> {
    const notable = new Set<string>(Object.values(ConsumerEvents));
    for await (const status of await messages.status()) {
      if (notable.has(status.type)) this.options.logger.warn({ consumer_event: status.type, data: status.data }, `consumer ${status.type}`);
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    this.stats.received++;
    const { logger, maxMessageBytes } = this.options;
    const context = { subject: message.subject, stream_seq: message.seq, delivery: message.info.deliveryCount };
    try {
      const parsed = parseAgentMessage(message.subject, message.data, maxMessageBytes);
      if (!parsed.ok) return await this.deadLetter(message, parsed.reason, parsed.detail);
      const corrId = parsed.signal.corr_id;
      const log = logger.child({ ...context, corr_id: corrId, workflow_id: workflowIdFor(corrId) });
      try {
        await this.handovers.run(corrId, () => this.signal(parsed.signal, String(message.seq)));
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        return await this.onDecidedCorrelation(message, parsed.signal);
      }
      message.ack();
      this.stats.signalled++;
      this.options.metrics?.signalsReceived.inc({ outcome: 'signalled' });
      log.debug('signalled');
    } catch (error) {
      // Temporal or NATS is unavailable: the message waits in JetStream and comes back later.
      this.stats.retries++;
      this.options.metrics?.signalsReceived.inc({ outcome: 'retried' });
      const delay = Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** (message.info.deliveryCount - 1));
      message.nak(delay);
      logger.warn({ ...context, err: error, retry_in_ms: delay }, 'cannot hand the signal to Temporal; will retry');
    }
  }

  /**
   * Signal-with-start: the first signal creates the correlation's actor. A closed correlation is
   * never started again (REJECT_DUPLICATE): the late signal is refused instead.
   */
  private signal(signal: AgentSignal, messageId: string): Promise<unknown> {
    const corrId = signal.corr_id;
    const input: CorrelationInput = { corr_id: corrId };
    return this.options.client.workflow.signalWithStart(WORKFLOW_TYPE, {
      workflowId: workflowIdFor(corrId),
      taskQueue: this.options.taskQueue,
      args: [input],
      signal: agentSignal,
      signalArgs: [{ message_id: messageId, signal }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
  }

  /**
   * The correlation has already closed. A redelivery of a message it used (the bridge died between
   * signalling and acknowledging) is a duplicate; anything else arrived too late.
   */
  private async onDecidedCorrelation(message: JsMsg, signal: AgentSignal): Promise<void> {
    const handle = this.options.client.workflow.getHandle(workflowIdFor(signal.corr_id));
    const decision = await handle.result().then(
      (result: OrchestrationDecision) => result,
      () => undefined,
    );
    if (decision?.provenance?.some((entry) => entry.message_id === String(message.seq))) {
      this.stats.duplicates++;
      this.options.metrics?.signalsReceived.inc({ outcome: 'duplicate' });
      message.ack();
      return;
    }
    const detail = decision ? `correlation ${signal.corr_id} was decided at ${decision.orchestrated_at}` : `correlation ${signal.corr_id} has closed`;
    await this.deadLetter(message, 'late', detail);
  }

  /** Publishes the original bytes to the DLQ with the reason and origin in headers, then acks. */
  private async deadLetter(message: JsMsg, reason: DlqReason, detail: string): Promise<void> {
    const headers = natsHeaders();
    headers.set('Orch-Dlq-Reason', reason);
    headers.set('Orch-Dlq-Detail', detail.replace(/[\r\n]+/g, ' ').slice(0, 1_024));
    headers.set('Orch-Original-Subject', message.subject);
    headers.set('Orch-Original-Seq', String(message.seq));
    // The msgID makes a redelivered bad message land in the DLQ once.
    const publish = (data: Uint8Array) => this.options.js.publish(DLQ_SUBJECT, data, { headers, msgID: `dlq-${message.seq}` });
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
    this.options.logger.warn({ subject: message.subject, stream_seq: message.seq, reason, detail }, `signal sent to the DLQ: ${reason}`);
  }
}
