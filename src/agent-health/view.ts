/**
 * What a process that starts correlations knows of the agents' circuit breakers: it queries each
 * expected agent's breaker workflow about once a second and keeps the last answer, so that each
 * start can say, in its input, which agents not to wait for. A breaker not read yet counts as closed
 * (wait for the agent: the safe side); one that cannot be read keeps its last state; an open one
 * whose half-open time has passed counts as half-open even before the next poll. Half-open, one
 * correlation at a time probes the agent (waits for it) and the others still do not wait: at most
 * one per `probeEveryMs` (the policy's timeout) from each starter, so a still-dark agent costs one
 * slow decision per probe, not a burst of them.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Logger } from '../observability/logger';
import { type BreakerSnapshot, breakerStateQuery, breakerWorkflowIdFor } from '../shared/agent-breaker-api';

const QUERY_DEADLINE_MS = 5_000;

export class BreakerView {
  private readonly states = new Map<string, BreakerSnapshot>();
  /** When this starter last let a correlation probe each half-open agent. */
  private readonly probes = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly agents: readonly string[],
    private readonly logger: Logger,
    private readonly probeEveryMs: number,
    private readonly intervalMs = 1_000,
    private readonly onState?: (snapshot: BreakerSnapshot) => void,
  ) {}

  /**
   * The agents a correlation starting at `nowMs` does not wait for: those whose breaker is open,
   * and those half-open unless this correlation is the one that probes. Call once per start.
   */
  degradedAgents(nowMs = Date.now()): string[] {
    return this.agents.filter((agent) => {
      const s = this.states.get(agent);
      if (!s || s.state === 'closed') return false;
      const halfOpen = s.state === 'half_open' || (s.half_open_at !== undefined && nowMs >= Date.parse(s.half_open_at));
      if (!halfOpen) return true;
      const lastProbe = this.probes.get(agent);
      if (lastProbe !== undefined && nowMs - lastProbe < this.probeEveryMs) return true;
      this.probes.set(agent, nowMs);
      return false;
    });
  }

  /** The last state read of each agent's breaker (agents never read are absent). */
  snapshots(): BreakerSnapshot[] {
    return this.agents.flatMap((agent) => this.states.get(agent) ?? []);
  }

  /** Reads the breakers now and then every `intervalMs`; never waits for an answer (no worker may be polling yet). */
  start(): void {
    void this.poll();
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  poll(): Promise<void> {
    this.polling ??= Promise.all(this.agents.map((agent) => this.read(agent))).then(() => (this.polling = undefined));
    return this.polling;
  }

  private async read(agent: string): Promise<void> {
    try {
      // A query waits for a worker to answer it: bounded, so one slow answer does not stall the next reads.
      const snapshot = await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => this.client.workflow.getHandle(breakerWorkflowIdFor(agent)).query(breakerStateQuery));
      this.states.set(agent, snapshot);
      this.onState?.(snapshot);
    } catch (error) {
      // No breaker yet: no correlation has reported on this agent. Anything else: keep the last state a moment.
      if (error instanceof WorkflowNotFoundError) this.states.delete(agent);
      else this.logger.debug({ err: error, agent }, `cannot read the circuit breaker of agent ${agent}`);
    }
  }
}
