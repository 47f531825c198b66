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

/**
 * An agent's breaker by its workflow's query, or null when it has none yet (no correlation has
 * reported on the agent). A query waits for a worker to answer it, so it is bounded.
 */
export async function queryBreaker(
  client: Client,
  agent: string,
  deadlineMs = QUERY_DEADLINE_MS,
): Promise<BreakerSnapshot | null> {
  try {
    return await client.withDeadline(Date.now() + deadlineMs, () =>
      client.workflow.getHandle(breakerWorkflowIdFor(agent)).query(breakerStateQuery),
    );
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

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
      const snapshot = await queryBreaker(this.client, agent);
      if (!snapshot) {
        this.states.delete(agent);
        return;
      }
      this.states.set(agent, snapshot);
      this.onState?.(snapshot);
    } catch (error) {
      // Keep the last state a moment (until its half-open time, at most: see degradedAgents).
      this.logger.debug({ err: error, agent }, `cannot read the circuit breaker of agent ${agent}`);
    }
  }
}
