/**
 * The load: correlations started at a steady rate, each sending its units (agent signals, or
 * signal-with-starts for the ceiling) at the offsets its arrival plan gives, with a bounded number
 * of sends awaiting their acknowledgement (a slow server shows as backlog, not as unbounded memory).
 */
import type { JetStreamClient } from 'nats';
import type { AgentSignal } from '../contract/agent-signal';
import { randomCorrelation } from '../devstack/demo-feed';
import { signalSubject } from '../nats/streams';
import { type CorrelationBook, wallClockMs } from './observer';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** When each unit of correlation n goes out, in ms after its first (which is at 0); one entry per unit. */
export type ArrivalPlan = (n: number) => number[];

/** Sends unit `index` of correlation n. */
export type Send = (n: number, index: number) => Promise<void>;

export interface PacerStats {
  /** Units due by now at the rates set so far. */
  offered: number;
  /** Units handed to `send`. */
  sent: number;
  /** Sends whose promise rejected. */
  errors: number;
  inFlight: number;
  /** Most units that were due but not yet sent at one time. */
  maxBacklog: number;
}

interface Arrival {
  at: number;
  n: number;
  index: number;
}

/**
 * Starts correlations at `ratePerMinute` units a minute and sends their units as planned, at most `maxInFlight`
 * unacknowledged.
 */
export class Pacer {
  private dueCorrelations = 0;
  private started = 0;
  /** Scheduled units not sent yet, in the order they fall due. */
  private readonly scheduled: Arrival[] = [];
  private sentCount = 0;
  private errors = 0;
  private inFlight = 0;
  private maxBacklog = 0;
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly errorSamples: string[] = [];

  /**
   * @param unitsPerCorrelation average units of a correlation, to turn the unit rate into correlation starts
   */
  constructor(
    private ratePerMinute: number,
    private readonly unitsPerCorrelation: number,
    private readonly maxInFlight: number,
    private readonly plan: ArrivalPlan,
    private readonly send: Send,
  ) {}

  get rate(): number {
    return this.ratePerMinute;
  }

  /** Changes the rate from now on (capacity steps). */
  setRate(ratePerMinute: number): void {
    this.ratePerMinute = ratePerMinute;
  }

  start(): void {
    this.loop ??= this.run();
  }

  stats(): PacerStats {
    return {
      offered: this.sentCount + this.dueNotSent(performance.now()),
      sent: this.sentCount,
      errors: this.errors,
      inFlight: this.inFlight,
      maxBacklog: this.maxBacklog,
    };
  }

  /** The first few send errors, for the report. */
  errorMessages(): string[] {
    return [...this.errorSamples];
  }

  /**
   * Starts no more correlations, sends the rest of those started (so none lacks its last agents), and waits for the
   * sends in flight.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    while (this.inFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private dueNotSent(now: number): number {
    let due = 0;
    while (due < this.scheduled.length && this.scheduled[due].at <= now) due++;
    return due;
  }

  private schedule(arrival: Arrival): void {
    // Binary search for the first later arrival: equal times keep their order.
    let lo = 0;
    let hi = this.scheduled.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.scheduled[mid].at <= arrival.at) lo = mid + 1;
      else hi = mid;
    }
    this.scheduled.splice(lo, 0, arrival);
  }

  private async run(): Promise<void> {
    let last = performance.now();
    while (!this.stopping || this.scheduled.length > 0) {
      const now = performance.now();
      if (!this.stopping) {
        this.dueCorrelations += ((now - last) * this.ratePerMinute) / this.unitsPerCorrelation / 60_000;
        while (this.started < Math.floor(this.dueCorrelations)) {
          const n = this.started++;
          this.plan(n).forEach((offset, index) => this.schedule({ at: now + offset, n, index }));
        }
      }
      last = now;
      this.maxBacklog = Math.max(this.maxBacklog, this.dueNotSent(now));
      while (this.scheduled.length > 0 && this.scheduled[0].at <= performance.now()) {
        if (this.inFlight >= this.maxInFlight) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        const { n, index } = this.scheduled.shift() as Arrival;
        this.issue(n, index);
      }
      const nextArrival =
        this.scheduled.length > 0 ? this.scheduled[0].at - performance.now() : Number.POSITIVE_INFINITY;
      const nextStart = this.stopping
        ? Number.POSITIVE_INFINITY
        : ((Math.floor(this.dueCorrelations) + 1 - this.dueCorrelations) * this.unitsPerCorrelation * 60_000) /
          this.ratePerMinute;
      await sleep(Math.max(1, Math.min(20, nextArrival, nextStart)));
    }
  }

  private issue(n: number, index: number): void {
    this.inFlight++;
    this.sentCount++;
    let promise: Promise<void>;
    try {
      promise = this.send(n, index);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise
      .catch((error: unknown) => {
        this.errors++;
        if (this.errorSamples.length < 5)
          this.errorSamples.push(error instanceof Error ? error.message : String(error));
      })
      .finally(() => {
        this.inFlight--;
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
      });
  }
}

/**
 * Whether correlation n is partial: spread evenly, so that exactly ⌊n·share⌋ of the first n are.
 */
export function isPartialCorrelation(n: number, share: number): boolean {
  return Math.floor((n + 1) * share) > Math.floor(n * share);
}

/** Average signals per correlation when a share of them leaves out one agent. */
export function signalsPerCorrelation(agents: number, partialShare: number): number {
  return agents - partialShare;
}

/**
 * How a correlation's agents report: the first at once, each other one after a delay drawn
 * uniformly from [0, spreadMs] (0: all together). A partial correlation leaves out its last agent.
 */
export function agentArrivals(
  agents: number,
  partialShare: number,
  spreadMs: number,
  random: () => number = Math.random,
): ArrivalPlan {
  return (n) => {
    const count = isPartialCorrelation(n, partialShare) ? agents - 1 : agents;
    return Array.from({ length: count }, (_, i) => (i === 0 ? 0 : Math.round(random() * spreadMs)));
  };
}

/** One agent's signal about a correlation; momentum and risk look like the demo agents' signals. */
function signalsFor(corrId: string, agents: string[]): AgentSignal[] {
  const [momentum, risk] = randomCorrelation(corrId, false);
  return agents.map((agent) => {
    if (agent === 'momentum') return momentum;
    if (agent === 'risk') return { ...risk, source_signal: momentum.source_signal };
    return {
      ...momentum,
      agent_name: agent,
      agent_version: 'bench',
      analysis: { confidence: Math.round(Math.random() * 100) / 100 },
    };
  });
}

export interface SignalLoadOptions {
  js: JetStreamClient;
  book: CorrelationBook;
  /** Correlation ids are `<prefix><n>`. */
  prefix: string;
  agents: string[];
  partialShare: number;
  /** The spread of a correlation's agents (see agentArrivals). */
  spreadMs: number;
}

/**
 * The orchestrator's load: correlation n's agents publish on NATS as planned. Each signal is
 * recorded in the book as it goes out.
 */
export function signalLoad(options: SignalLoadOptions): { plan: ArrivalPlan; send: Send } {
  const { js, book, prefix, agents, partialShare, spreadMs } = options;
  const open = new Map<number, { signals: AgentSignal[]; left: number }>();
  const plan = agentArrivals(agents.length, partialShare, spreadMs);
  const send: Send = (n, index) => {
    const partial = isPartialCorrelation(n, partialShare);
    let correlation = open.get(n);
    if (!correlation) {
      correlation = { signals: signalsFor(`${prefix}${n}`, agents), left: partial ? agents.length - 1 : agents.length };
      open.set(n, correlation);
    }
    book.sent(n, wallClockMs(), partial);
    if (--correlation.left === 0) open.delete(n);
    const signal = correlation.signals[index];
    return js.publish(signalSubject(signal.agent_name), JSON.stringify(signal)).then(() => undefined);
  };
  return { plan, send };
}
