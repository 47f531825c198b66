/**
 * One agent's circuit breaker, as a plain state machine: the state its entity workflow
 * (agentBreakerWorkflow) keeps, with no Temporal APIs and no clock of its own (callers pass the
 * time), so it is unit-testable as is and replays the same.
 *
 * - closed: correlations wait for the agent. Each correlation that decided without it (it missed
 *   its deadline) counts a miss; `failure_threshold` misses in a row open the breaker.
 * - open: new correlations do not wait for the agent. After `reset_after_ms` it turns half-open.
 * - half-open: the next correlations wait for the agent again; its next miss opens the breaker
 *   again.
 * - A correlation the agent reported to closes the breaker from any state and resets the count.
 */
import type { BreakerSettings } from '../contract/policy';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  at: string;
  reason: string;
}

/** What the breaker knows, as its query returns it and continue-as-new carries it. */
export interface BreakerSnapshot {
  agent: string;
  state: BreakerState;
  /** Misses in a row since the agent last reported. */
  consecutive_misses: number;
  /** Correlations counted since the breaker's workflow started. */
  reported: number;
  missed: number;
  /** When an open breaker turns half-open. */
  half_open_at?: string;
  last_transition?: BreakerTransition;
  settings: BreakerSettings;
}

/** One correlation's verdict on the agent, in the order the correlations decided. */
export type AgentOutcome = 'reported' | 'missed';

export class AgentBreaker {
  private snapshotState: BreakerSnapshot;

  constructor(agent: string, settings: BreakerSettings, from?: BreakerSnapshot) {
    this.snapshotState = from
      ? { ...from, settings }
      : { agent, state: 'closed', consecutive_misses: 0, reported: 0, missed: 0, settings };
  }

  get state(): BreakerState {
    return this.snapshotState.state;
  }

  /** Whether a correlation starting now waits for the agent. */
  get waitsForAgent(): boolean {
    return this.state !== 'open';
  }

  /** When an open breaker turns half-open (ms since the epoch), else undefined. */
  get halfOpenAtMs(): number | undefined {
    const at = this.snapshotState.half_open_at;
    return this.state === 'open' && at ? Date.parse(at) : undefined;
  }

  /** Takes a new failure threshold or reset time (a changed policy); the state stays. */
  configure(settings: BreakerSettings): void {
    this.snapshotState.settings = settings;
  }

  /** Counts one correlation's outcome; returns the transition it caused, if any. */
  record(outcome: AgentOutcome, at: Date): BreakerTransition | undefined {
    const s = this.snapshotState;
    if (outcome === 'reported') {
      s.reported++;
      s.consecutive_misses = 0;
      return this.state === 'closed' ? undefined : this.moveTo('closed', at, 'the agent reported');
    }
    s.missed++;
    s.consecutive_misses++;
    if (this.state === 'half_open') return this.open(at, 'the agent missed its deadline again while half-open');
    if (this.state === 'closed' && s.consecutive_misses >= s.settings.failure_threshold) {
      return this.open(
        at,
        `${s.consecutive_misses} correlations in a row decided without the agent (failure_threshold ${s.settings.failure_threshold})`,
      );
    }
    return undefined;
  }

  /** Turns an open breaker half-open once its reset time has come. */
  tick(now: Date): BreakerTransition | undefined {
    const due = this.halfOpenAtMs;
    if (due === undefined || now.getTime() < due) return undefined;
    return this.moveTo('half_open', now, `${this.snapshotState.settings.reset_after_ms} ms since it opened`);
  }

  snapshot(): BreakerSnapshot {
    return {
      ...this.snapshotState,
      ...(this.snapshotState.last_transition ? { last_transition: { ...this.snapshotState.last_transition } } : {}),
    };
  }

  private open(at: Date, reason: string): BreakerTransition {
    const transition = this.moveTo('open', at, reason);
    this.snapshotState.half_open_at = new Date(at.getTime() + this.snapshotState.settings.reset_after_ms).toISOString();
    return transition;
  }

  private moveTo(to: BreakerState, at: Date, reason: string): BreakerTransition {
    const transition = { from: this.state, to, at: at.toISOString(), reason };
    this.snapshotState.state = to;
    if (to !== 'open') delete this.snapshotState.half_open_at;
    this.snapshotState.last_transition = transition;
    return transition;
  }
}
