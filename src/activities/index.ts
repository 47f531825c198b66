/**
 * The correlation workflow's activities, built around their dependencies. Scoring and routing are
 * pure (see decision-rules.ts); publishing does a few milliseconds of idempotent I/O. All of them run
 * as local activities (histories from before that change ran publishing as a normal activity).
 * `decideAndPublish` serves the current shape, correlationWorkflowV3; `scoreAndRoute` and
 * `publishDecision` serve correlationWorkflowV2, and `resolvePolicy`, `scoreSignals`,
 * `routeDecision` and `publishDecision` the first shape.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { ErrorCode, headers as natsHeaders, millis } from 'nats';
import type { AgentSignal } from '../contract/agent-signal';
import type { Action, OrchestrationDecision } from '../contract/decision';
import { describeIssues } from '../contract/errors';
import { type Policy, type PolicyInput, policySchema } from '../contract/policy';
import { DECISION_SUBJECT, type DeclaredStream, describeStreamChange, reconcileStream } from '../nats/streams';
import type { OrchestratorMetrics } from '../observability/metrics';
import { tracedPublish } from '../observability/trace-context';
import { buildDecision, type DecisionFrame, decisionSeen } from '../shared/decision-record';
import type { OutcomeSink } from '../agent-health/reporter';
import { DECISIVE_SIGNAL_RULE } from '../shared/decisive-signals';
import { publishDeadlineMs } from '../shared/publish-horizon';
import { ORCHESTRATOR_VERSION } from '../version';
import { assess, type Assessment, chooseRoute, instrumentOf } from './decision-rules';

export interface ActivityDependencies {
  /** The worker's policy, used by correlations that bring none of their own. */
  policy: Policy;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /**
   * DECISIONS as configured: re-created so when it goes missing; its duplicate window bounds when a run may publish.
   */
  decisions: DeclaredStream;
  /** Where published decisions are counted; optional for tests and tools. */
  metrics?: OrchestratorMetrics;
  /** Where each published decision's agent outcomes go (the agents' circuit breakers); optional for tests and tools. */
  outcomes?: OutcomeSink;
}

export interface PublishResult {
  stream: string;
  seq: number;
  /** True when JetStream had already stored this decision: a retried publish, dropped. */
  duplicate: boolean;
  /**
   * With `duplicate`: the decision JetStream had stored, which consumers saw. It can differ from
   * the one just offered: a workflow task that failed after publishing (a signal arrived before it
   * could complete) runs again with that signal and decides anew. The stored one stands.
   */
  stored?: OrchestrationDecision;
}

/** The assessment, the version of the code that made it, and the instrument it is about (for search). */
export type ScoredAssessment = Assessment & { orchestrator_version: string; instrument?: string };

/** A scored assessment and the route its decision goes to. */
export type RoutedAssessment = ScoredAssessment & { route: string };

export function createActivities(deps: ActivityDependencies) {
  let streamReady: Promise<void> | undefined;
  const ensureStream = (): Promise<void> => {
    streamReady ??= reconcileStream(deps.jsm, deps.decisions).then(
      (changes) => changes.forEach((change) => log.warn(describeStreamChange(change), { ...change })),
      (error: unknown) => {
        streamReady = undefined;
        throw error;
      },
    );
    return streamReady;
  };
  const dedupeWindowMs = millis(deps.decisions.duplicate_window ?? 0);

  /**
   * Publishes with Nats-Msg-Id = the decision id, so JetStream drops the copy a second attempt
   * publishes. `runStartedAtMs` (the run's start, recorded by Temporal) bounds when that may
   * happen: past the deadline an earlier copy may have left the duplicate window, so this run
   * fails instead (visibly; `orch redrive` decides it again under a new id).
   */
  async function publish(decision: OrchestrationDecision, runStartedAtMs?: number): Promise<PublishResult> {
    log.debug('publishing decision', { corr_id: decision.corr_id });
    if (runStartedAtMs !== undefined && Date.now() > publishDeadlineMs(runStartedAtMs, dedupeWindowMs)) {
      throw ApplicationFailure.nonRetryable(
        `decision ${decisionMessageId(decision)} was not published by ${new Date(publishDeadlineMs(runStartedAtMs, dedupeWindowMs)).toISOString()}, ` +
          `while DECISIONS would still drop a second copy (its duplicate window is ${dedupeWindowMs} ms from the run's start at ${new Date(runStartedAtMs).toISOString()}); ` +
          'publishing now could reach consumers twice. Re-drive the correlation (orch redrive) to decide it again under a new id',
        'PublishHorizonPassed',
      );
    }
    await ensureStream();
    const headers = natsHeaders();
    headers.set('Content-Type', 'application/json');
    const msgID = decisionMessageId(decision);
    // With tracing on, the decision's message carries the trace of the messages that led to it.
    const ack = await tracedPublish(
      DECISION_SUBJECT,
      headers,
      { 'messaging.message.id': msgID, 'orchestrator.corr_id': decision.corr_id },
      () =>
        deps.js.publish(DECISION_SUBJECT, JSON.stringify(decision), { msgID, headers }).catch((error: unknown) => {
          // No stream captures the subject (deleted while we ran): let the retry create it again.
          if ((error as { code?: string }).code === ErrorCode.NoResponders) streamReady = undefined;
          throw error;
        }),
    );
    log.info('decision published', {
      corr_id: decision.corr_id,
      action: decision.decision.action,
      route: decision.route,
      stream_seq: ack.seq,
      duplicate: ack.duplicate,
    });
    if (!ack.duplicate) {
      deps.metrics?.recordDecision(decision);
      return { stream: ack.stream, seq: ack.seq, duplicate: false };
    }
    // A duplicate's ack carries the sequence of the message first stored under its id.
    const stored = await deps.jsm.streams.getMessage(ack.stream, { seq: ack.seq }).then(
      (message) => message.json<OrchestrationDecision>(),
      () => undefined,
    );
    return { stream: ack.stream, seq: ack.seq, duplicate: true, ...(stored ? { stored } : {}) };
  }

  return {
    /** The policy a correlation runs under: its own if it brought one (validated), else the worker's. */
    async resolvePolicy(override?: PolicyInput): Promise<Policy> {
      if (override === undefined) return deps.policy;
      const result = policySchema.safeParse(override);
      if (!result.success) {
        throw ApplicationFailure.nonRetryable(`invalid policy: ${describeIssues(result.error)}`, 'InvalidPolicy');
      }
      return result.data;
    },

    /** Confidence, action and reasoning for the signals collected (SPEC.md's decision rules). */
    async scoreSignals(input: { signals: Record<string, AgentSignal>; policy: Policy }): Promise<ScoredAssessment> {
      const instrument = instrumentOf(input.signals);
      return {
        ...assess(input.signals, input.policy),
        orchestrator_version: ORCHESTRATOR_VERSION,
        ...(instrument ? { instrument } : {}),
      };
    },

    /** The route a decision goes to, by the policy's routing rules. */
    async routeDecision(input: {
      signals: Record<string, AgentSignal>;
      action: Action;
      policy: Policy;
    }): Promise<string> {
      return chooseRoute(input.signals, input.action, input.policy);
    },

    /**
     * Scoring and routing in one step: both are pure, so one recorded result (one marker, one
     * workflow activation) serves where two did. Used by correlationWorkflowV2.
     */
    async scoreAndRoute(input: { signals: Record<string, AgentSignal>; policy: Policy }): Promise<RoutedAssessment> {
      return scoreAndRoute(input);
    },

    /**
     * Publishes the decision on orchestrated.decision with Nats-Msg-Id = corr_id, so JetStream drops
     * the copy a retried attempt may publish after an earlier attempt's ack was lost. A re-driven
     * decision is a deliberate second one: its id is `<corr_id>:<its workflow id>`. Histories of
     * the first shape call it without the run's start, and keep the window as their only bound.
     */
    publishDecision: publish,

    /**
     * Scoring, routing and publishing in one step, for correlationWorkflowV3: one recorded result
     * and one workflow activation where correlationWorkflowV2 needs two. Scoring is pure, so a
     * retried attempt decides the same way, and the publish is deduplicated as in publishDecision.
     * Returns the decision consumers saw: an earlier attempt's, if one was already stored.
     */
    async decideAndPublish(input: DecideInput): Promise<DecideResult> {
      const { instrument, ...routed } = rulesOrFail(() => scoreAndRoute(input));
      const ours = buildDecision(input.frame, routed);
      const published = await publish(ours, input.run_started_at_ms);
      if (!published.duplicate) deps.outcomes?.record(ours, input.policy);
      return { ...decisionSeen(ours, published.stored, instrument), duplicate: published.duplicate };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** What deciding in one step needs: the kept signals, the policy, the decision's frame, and when the run started. */
export interface DecideInput {
  signals: Record<string, AgentSignal>;
  policy: Policy;
  frame: DecisionFrame;
  /** The run's start (Temporal's, so the same in every attempt); histories recorded before it existed omit it. */
  run_started_at_ms?: number;
}

/** What deciding in one step gives the workflow. */
export interface DecideResult {
  /** The decision consumers saw on orchestrated.decision. */
  decision: OrchestrationDecision;
  /** True when an earlier attempt had already published it. */
  duplicate: boolean;
  /** The instrument the decision is about, when it rests on the inputs given (for search). */
  instrument?: string;
}

/**
 * The rules are pure: if they throw on these signals, every retry would too. Fail the step at once
 * (the workflow fails visibly and can be re-driven once fixed) rather than retry it for the hour
 * that publishing is allowed.
 */
function rulesOrFail<T>(apply: () => T): T {
  try {
    return apply();
  } catch (error) {
    throw ApplicationFailure.nonRetryable(
      `the decision rules failed on this correlation's signals: ${error instanceof Error ? error.message : String(error)}`,
      'DecisionRulesFailed',
    );
  }
}

/** Scoring and routing: both pure, one result. The frame, when given, says what stopped the wait. */
function scoreAndRoute(input: {
  signals: Record<string, AgentSignal>;
  policy: Policy;
  frame?: DecisionFrame;
}): RoutedAssessment {
  const assessment = assess(input.signals, input.policy, {
    degraded: input.frame?.degraded_agents,
    decisive: input.frame?.decided_early?.rule === DECISIVE_SIGNAL_RULE,
  });
  const instrument = instrumentOf(input.signals);
  return {
    ...assessment,
    route: chooseRoute(input.signals, assessment.action, input.policy),
    orchestrator_version: ORCHESTRATOR_VERSION,
    ...(instrument ? { instrument } : {}),
  };
}

function decisionMessageId(decision: OrchestrationDecision): string {
  if (!decision.redrive_of) return decision.corr_id;
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId)
    throw ApplicationFailure.nonRetryable('a re-driven decision is published from its workflow only', 'NotInWorkflow');
  return `${decision.corr_id}:${workflowId}`;
}
