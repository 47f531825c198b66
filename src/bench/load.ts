/**
 * The load: one async loop paced to a rate, with a bounded number of sends awaiting their
 * acknowledgement (a slow server shows as lag, not as unbounded memory), and the agents' signals it
 * publishes on NATS, correlation after correlation.
 */
import type { JetStreamClient } from 'nats';
import type { AgentSignal } from '../contract/agent-signal';
import { randomCorrelation } from '../devstack/demo-feed';
import { signalSubject } from '../nats/streams';
import { type CorrelationBook, wallClockMs } from './observer';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/** Sends units (signals, or workflows for the ceiling) at `ratePerMinute`, at most `maxInFlight` unacknowledged. */
export class Pacer {
  private due = 0;
  private sentCount = 0;
  private errors = 0;
  private inFlight = 0;
  private maxBacklog = 0;
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly errorSamples: string[] = [];

  /**
   * @param atBoundary whether the units sent so far end a group (a correlation's signals): on stop,
   *   the pacer finishes the group it is in, so no correlation is left without its last agents.
   */
  constructor(
    private ratePerMinute: number,
    private readonly maxInFlight: number,
    private readonly send: (unit: number) => Promise<void>,
    private readonly atBoundary: () => boolean = () => true,
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
    return { offered: Math.floor(this.due), sent: this.sentCount, errors: this.errors, inFlight: this.inFlight, maxBacklog: this.maxBacklog };
  }

  /** The first few send errors, for the report. */
  errorMessages(): string[] {
    return [...this.errorSamples];
  }

  /** Stops sending and waits for the sends in flight to settle. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    while (this.inFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private async run(): Promise<void> {
    let last = performance.now();
    while (!this.stopping) {
      const now = performance.now();
      this.due += ((now - last) * this.ratePerMinute) / 60_000;
      last = now;
      this.maxBacklog = Math.max(this.maxBacklog, Math.floor(this.due) - this.sentCount);
      while (!this.stopping && this.sentCount < Math.floor(this.due)) {
        if (this.inFlight >= this.maxInFlight) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        this.issue(this.sentCount++);
      }
      const untilNext = ((Math.floor(this.due) + 1 - this.due) * 60_000) / this.ratePerMinute;
      await sleep(Math.min(20, Math.max(1, untilNext)));
    }
    while (!this.atBoundary()) {
      if (this.inFlight >= this.maxInFlight) await new Promise<void>((resolve) => (this.wake = resolve));
      else this.issue(this.sentCount++);
    }
  }

  private issue(unit: number): void {
    this.inFlight++;
    let promise: Promise<void>;
    try {
      promise = this.send(unit);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise
      .catch((error: unknown) => {
        this.errors++;
        if (this.errorSamples.length < 5) this.errorSamples.push(error instanceof Error ? error.message : String(error));
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

/** One agent's signal about a correlation; momentum and risk look like the demo agents' signals. */
function signalsFor(corrId: string, agents: string[]): AgentSignal[] {
  const [momentum, risk] = randomCorrelation(corrId, false);
  return agents.map((agent) => {
    if (agent === 'momentum') return momentum;
    if (agent === 'risk') return { ...risk, source_signal: momentum.source_signal };
    return { ...momentum, agent_name: agent, agent_version: 'bench', analysis: { confidence: Math.round(Math.random() * 100) / 100 } };
  });
}

export interface SignalPublisherOptions {
  js: JetStreamClient;
  book: CorrelationBook;
  /** Correlation ids are `<prefix><n>`. */
  prefix: string;
  agents: string[];
  partialShare: number;
}

/**
 * The `send` of the orchestrator's load: each call publishes the next agent signal, going through
 * the agents of correlation 0, then of correlation 1, and so on; a partial correlation leaves out
 * its last agent. The first signal of each correlation is recorded in the book as it goes out.
 * `atBoundary` tells whether the current correlation's signals have all been sent.
 */
export function signalPublisher(options: SignalPublisherOptions): { send: (unit: number) => Promise<void>; atBoundary: () => boolean } {
  const { js, book, prefix, agents, partialShare } = options;
  let n = -1;
  let pending: AgentSignal[] = [];
  const atBoundary = (): boolean => pending.length === 0;
  const send = (): Promise<void> => {
    if (pending.length === 0) {
      n++;
      const partial = isPartialCorrelation(n, partialShare);
      const signals = signalsFor(`${prefix}${n}`, agents);
      pending = partial ? signals.slice(0, -1) : signals;
      book.sent(n, wallClockMs(), partial);
    }
    const signal = pending.shift() as AgentSignal;
    return js.publish(signalSubject(signal.agent_name), JSON.stringify(signal)).then(() => undefined);
  };
  return { send, atBoundary };
}
