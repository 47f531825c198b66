/**
 * The state of one correlation, owned by its workflow. Plain, deterministic and serialisable: no
 * Temporal APIs, no zod, no clock of its own (callers pass the time), so it is unit-testable as is.
 */
import type { AgentSignal } from '../contract/agent-signal';
import type { CorrelationState, CorrelationStatus } from '../contract/correlation-state';
import type { EarlyDecision, OrchestrationDecision, ProvenanceEntry } from '../contract/decision';
import type { DecisiveSignal, Policy } from '../contract/policy';
import type { AgentSignalEnvelope } from '../shared/correlation-api';
import { DECISIVE_SIGNAL_RULE, decisiveMatch } from '../shared/decisive-signals';

/** How many late signals are kept in full; beyond that they are only counted. */
export const MAX_LATE_SIGNALS_KEPT = 20;

export type ReceiveOutcome = 'accepted' | 'duplicate' | 'late' | 'rejected';

type Receipt = { message_id: string; arrived_at: string };

/** `max_signals` is absent from the policies recorded before it existed: no limit for those runs. */
export type CorrelationPolicy = Pick<Policy, 'version' | 'expected_agents' | 'min_agents_threshold' | 'max_agents'> &
  Partial<Pick<Policy, 'max_signals'>>;

/**
 * How long the run waits for each agent (correlationWorkflowV5 on): every expected agent's own
 * deadline, those whose breaker was open at the start (not waited for), and the signals that
 * decide at once. Runs of older shapes have none of it and wait for every agent
 * until the shared timeout.
 */
export interface AgentWaiting {
  /** When the run stops waiting for each expected agent (ms since the epoch). */
  deadlines: Record<string, number>;
  /** Expected agents whose breaker was open at the start: their deadline is the start itself. */
  degraded: readonly string[];
  decisive: readonly DecisiveSignal[];
}

export class Correlation {
  private status: CorrelationStatus = 'collecting';
  private readonly signals: Record<string, AgentSignal> = {};
  private readonly receipts: Record<string, Receipt> = {};
  private received = 0;
  private duplicates = 0;
  private rejected = 0;
  private lateCount = 0;
  private readonly lateSignals: Array<Receipt & { agent_name: string }> = [];
  private policy?: CorrelationPolicy;
  private timeoutAt?: string;
  private waiting?: AgentWaiting;
  private decisive?: EarlyDecision;
  private decision?: OrchestrationDecision;

  constructor(
    readonly corrId: string,
    private readonly createdAt: string,
  ) {}

  /**
   * Records one agent message. The first message per agent is kept; a redelivery or a second
   * message from the same agent is a duplicate and never counts twice. Anything arriving after the
   * decision is late: counted, never decided on. Past the policy's `max_signals` every message is
   * rejected: an agent stuck in a loop cannot grow the run without bound.
   */
  receive(envelope: AgentSignalEnvelope, arrivedAt: Date): ReceiveOutcome {
    this.received++;
    if (this.received > (this.policy?.max_signals ?? Number.POSITIVE_INFINITY)) {
      this.rejected++;
      return 'rejected';
    }
    const signal = envelope?.signal;
    if (
      typeof envelope?.message_id !== 'string' ||
      typeof signal?.agent_name !== 'string' ||
      signal.corr_id !== this.corrId
    ) {
      this.rejected++;
      return 'rejected';
    }
    const agent = signal.agent_name;
    const isRepeat =
      agent in this.signals || Object.values(this.receipts).some((r) => r.message_id === envelope.message_id);
    if (isRepeat) {
      this.duplicates++;
      return 'duplicate';
    }
    const receipt = { message_id: envelope.message_id, arrived_at: arrivedAt.toISOString() };
    if (this.status !== 'collecting') {
      this.recordLate(agent, receipt);
      return 'late';
    }
    const maxAgents = this.policy?.max_agents ?? Number.POSITIVE_INFINITY;
    if (Object.keys(this.signals).length >= maxAgents && !this.isExpected(agent)) {
      this.rejected++;
      return 'rejected';
    }
    this.signals[agent] = signal;
    this.receipts[agent] = receipt;
    const decisive = this.waiting && !this.decisive ? decisiveMatch(signal, this.waiting.decisive) : undefined;
    if (decisive) this.decisive = { rule: DECISIVE_SIGNAL_RULE, detail: decisive.detail };
    return 'accepted';
  }

  /**
   * Fixes the policy the correlation waits under, when its partial-data timer fires and, from V5 on, how it waits for
   * each agent.
   */
  start(policy: CorrelationPolicy, timeoutAt: Date, waiting?: AgentWaiting): void {
    this.policy = policy;
    this.timeoutAt = timeoutAt.toISOString();
    this.waiting = waiting;
  }

  /** True once the run has received as many messages as the policy allows: it must decide now. */
  get signalLimitReached(): boolean {
    return this.received >= (this.policy?.max_signals ?? Number.POSITIVE_INFINITY);
  }

  /** Nothing left to wait for: every expected agent is in, or the run may take no more messages. */
  get readyToDecide(): boolean {
    return this.allExpectedReported || this.signalLimitReached;
  }

  /**
   * From V5 on: nothing left to wait for at `nowMs`, also because a decisive signal came or every
   * agent still missing is past its own deadline.
   */
  readyToDecideAt(nowMs: number): boolean {
    return this.readyToDecide || this.decisive !== undefined || this.awaitedAgents(nowMs).length === 0;
  }

  /** Expected agents not in yet whose deadline has not passed at `nowMs` (all missing ones before V5). */
  awaitedAgents(nowMs: number): string[] {
    return this.missingAgents().filter((agent) => this.waiting === undefined || nowMs < this.waiting.deadlines[agent]);
  }

  /** The next moment the run must look again: the earliest deadline of an agent it still waits for. */
  nextDeadline(nowMs: number): number | undefined {
    const deadlines = this.awaitedAgents(nowMs).map(
      (agent) => this.waiting?.deadlines[agent] ?? Number.POSITIVE_INFINITY,
    );
    return deadlines.length > 0 ? Math.min(...deadlines) : undefined;
  }

  /** Missing agents whose breaker was open at the start: the decision names them `degraded_agents`. */
  degradedAgents(): string[] {
    return this.missingAgents().filter((agent) => this.waiting?.degraded.includes(agent));
  }

  /** Why the correlation decides before its expected agents are all in, if it does. */
  earlyDecision(): EarlyDecision | undefined {
    if (this.allExpectedReported) return undefined;
    if (this.decisive) return this.decisive;
    if (!this.signalLimitReached) return undefined;
    return {
      rule: 'signal_limit',
      detail: `took ${this.policy?.max_signals} messages, the policy's max_signals; the rest were rejected`,
    };
  }

  get allExpectedReported(): boolean {
    return this.policy !== undefined && this.missingAgents().length === 0;
  }

  missingAgents(): string[] {
    return (this.policy?.expected_agents ?? []).filter((agent) => !(agent in this.signals)).sort();
  }

  /** The kept signals, the input of scoring and routing. */
  keptSignals(): Record<string, AgentSignal> {
    return { ...this.signals };
  }

  /** Which message each kept signal came from, sorted by agent. */
  provenance(): ProvenanceEntry[] {
    return Object.keys(this.signals)
      .sort()
      .map((agent) => ({
        agent,
        ...(this.signals[agent].agent_version !== undefined
          ? { agent_version: this.signals[agent].agent_version }
          : {}),
        ...this.receipts[agent],
      }));
  }

  beginDeciding(): void {
    this.status = 'deciding';
  }

  /**
   * Records the decision. A kept signal the decision does not name came after it: that happens
   * when the decision is one an earlier attempt of the workflow task published (see
   * publishDecision), and the signal is then late like any other.
   */
  decided(decision: OrchestrationDecision, timedOut: boolean): void {
    const used = new Set(decision.provenance.map((p) => `${p.agent}\u0000${p.message_id}`));
    for (const agent of Object.keys(this.signals)) {
      const receipt = this.receipts[agent];
      if (used.has(`${agent}\u0000${receipt.message_id}`)) continue;
      delete this.signals[agent];
      delete this.receipts[agent];
      this.recordLate(agent, receipt);
    }
    this.decision = decision;
    this.status = timedOut ? 'timed_out' : 'completed';
  }

  failed(): void {
    this.status = 'failed';
  }

  /** Markdown for the Temporal UI's current details: who reported, who is missing, when the timer fires. */
  describeWait(): string {
    const reported = Object.keys(this.signals).sort();
    const lines = [
      `**${this.status}**: correlation \`${this.corrId}\``,
      `- reported: ${reported.length > 0 ? reported.join(', ') : 'nobody yet'}`,
      `- missing: ${this.missingAgents().join(', ') || 'none'}`,
    ];
    if (this.timeoutAt && this.status === 'collecting') lines.push(`- partial-data timer fires at ${this.timeoutAt}`);
    if (this.decision)
      lines.push(
        `- decision: ${this.decision.decision.action} (${this.decision.decision.reasoning}), route ${this.decision.route}`,
      );
    if (this.duplicates + this.lateCount + this.rejected > 0) {
      lines.push(`- ignored: ${this.duplicates} duplicate, ${this.lateCount} late, ${this.rejected} rejected`);
    }
    return lines.join('\n');
  }

  snapshot(): CorrelationState {
    return {
      corr_id: this.corrId,
      status: this.status,
      signals: { ...this.signals },
      metadata: {
        created_at: this.createdAt,
        ...(this.policy
          ? {
              expected_agents: [...this.policy.expected_agents],
              min_agents_threshold: this.policy.min_agents_threshold,
              policy_version: this.policy.version,
            }
          : {}),
        ...(this.timeoutAt ? { timeout_at: this.timeoutAt } : {}),
      },
      receipts: { ...this.receipts },
      duplicates: this.duplicates,
      late_count: this.lateCount,
      late_signals: [...this.lateSignals],
      rejected_count: this.rejected,
      ...(this.decision ? { decision: this.decision } : {}),
    };
  }

  private recordLate(agent: string, receipt: Receipt): void {
    this.lateCount++;
    if (this.lateSignals.length < MAX_LATE_SIGNALS_KEPT) this.lateSignals.push({ ...receipt, agent_name: agent });
  }

  private isExpected(agent: string): boolean {
    return this.policy?.expected_agents.includes(agent) ?? false;
  }
}
