/**
 * The load a chaos scenario runs under: momentum and risk signals published as agents publish
 * them, and the record of what was published for each correlation (what the verification checks
 * the decisions against).
 */
import type { JetStreamClient } from 'nats';
import type { AgentSignal } from '../../../src/contract/agent-signal';
import { randomCorrelation } from '../../../src/devstack/demo-feed';
import { signalSubject } from '../../../src/nats/streams';
import { sleep } from '../poll';
import { random, randomBetween } from './random';

export interface PublishedCorrelation {
  corrId: string;
  n: number;
  /** Only momentum is published: the partial-data timer decides it. */
  partial: boolean;
  /** Agent -> stream sequence of its stored signal (the decision's provenance message id). */
  seqs: Record<string, number>;
  /** Agent -> the signal it published (a scenario may publish it again). */
  sent: Record<string, AgentSignal>;
  /** When its first signal went out (ms since the epoch). */
  firstSentAt: number;
  /** When every signal of it was acknowledged by JetStream. */
  publishedAt?: number;
}

interface LoadOptions {
  /** Correlation ids are `<prefix><n>`. */
  prefix: string;
  correlationsPerSecond: number;
  /** Share of correlations that leave out the risk agent. */
  partialShare: number;
  /**
   * How far apart a correlation's two agents publish: the second waits a delay drawn from 0 to
   * this (default 0). Either agent may go first, so agents arrive out of order and late.
   */
  agentSpreadMs?: number;
  /** Risk publishes before momentum (default: either first, at random). */
  riskFirst?: boolean;
}

/** Correlations being published at once (a NATS outage shows as lag, not unbounded memory). */
const MAX_IN_FLIGHT = 64;

/**
 * A steady publisher of momentum and risk signals, as agents publish them: one correlation after
 * another at a fixed rate, the two agents in random order, a share of correlations partial. Every
 * publish carries a Nats-Msg-Id and is retried until JetStream acknowledges it, so a publish whose
 * ack was lost in an outage is stored once, and its stream sequence is known.
 */
export class ChaosLoad {
  readonly correlations: PublishedCorrelation[] = [];
  /** While risk is in here, correlations start without it (an agent gone dark): they are partial. */
  readonly darkAgents = new Set<string>();
  publishRetries = 0;
  private stopping = false;
  private aborted = false;
  private inFlight = 0;
  private loop?: Promise<void>;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly options: LoadOptions,
  ) {}

  get prefix(): string {
    return this.options.prefix;
  }

  /** Correlations whose publishing has begun. */
  get started(): number {
    return this.correlations.length;
  }

  get signalsPublished(): number {
    return this.correlations.reduce((sum, c) => sum + Object.keys(c.seqs).length, 0);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops starting correlations and waits until those begun are fully published. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Gives up: publishes in flight stop retrying (the run failed and its stack is going away). */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.stop().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { correlationsPerSecond } = this.options;
    const t0 = Date.now();
    let n = 0;
    while (!this.stopping) {
      const due = Math.floor(((Date.now() - t0) * correlationsPerSecond) / 1000) + 1;
      while (!this.stopping && n < due && this.inFlight < MAX_IN_FLIGHT) this.launch(n++);
      await sleep(10);
    }
  }

  private launch(n: number): void {
    const corrId = `${this.options.prefix}${n}`;
    const partial = this.darkAgents.has('risk') || isPartial(n, this.options.partialShare);
    const record: PublishedCorrelation = { corrId, n, partial, seqs: {}, sent: {}, firstSentAt: Date.now() };
    this.correlations.push(record);
    this.inFlight++;
    const [momentum, risk] = randomCorrelation(corrId, false, new Date(), random);
    const signals: AgentSignal[] = partial
      ? [momentum]
      : this.options.riskFirst || random() < 0.5
        ? [risk, momentum]
        : [momentum, risk];
    const spread = randomBetween(0, this.options.agentSpreadMs ?? 0);
    const work = (async () => {
      for (const [i, signal] of signals.entries()) {
        if (i > 0 && spread > 0) await sleep(spread);
        record.seqs[signal.agent_name] = await this.publish(signal);
        record.sent[signal.agent_name] = signal;
      }
      record.publishedAt = Date.now();
    })().finally(() => {
      this.inFlight--;
      this.pending.delete(work);
    });
    this.pending.add(work);
  }

  /**
   * Publishes a signal as an agent does, retried under its message id until JetStream has it;
   * returns its stream sequence. `msgID` defaults to `<corr_id>:<agent>`: an agent republishing the
   * same content under a new id (a restarted agent) passes its own.
   */
  async publish(signal: AgentSignal, msgID = `${signal.corr_id}:${signal.agent_name}`): Promise<number> {
    const data = JSON.stringify(signal);
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      try {
        return (await this.js.publish(signalSubject(signal.agent_name), data, { msgID, timeout: 5_000 })).seq;
      } catch (error) {
        if (this.aborted || Date.now() > deadline) throw error;
        this.publishRetries++;
        await sleep(250);
      }
    }
  }
}

/** Correlation n is partial: spread evenly, ⌊n·share⌋ of the first n. */
function isPartial(n: number, share: number): boolean {
  return Math.floor((n + 1) * share) > Math.floor(n * share);
}
