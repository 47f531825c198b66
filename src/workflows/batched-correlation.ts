import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DecideInput } from '../activities';
import type { OrchestrationDecision } from '../contract/decision';
import type { Policy } from '../contract/policy';
import {
  type AgentSignalEnvelope,
  agentSignal,
  agentSignals,
  type CorrelationStart,
  stateQuery,
} from '../shared/correlation-api';
import { buildDecision, decisionSeen } from '../shared/decision-record';
import { LOCAL_PUBLISHING, LOCAL_RULES, localIo, rules } from './activity-options';
import { type AgentWaiting, Correlation } from './correlation';
import { decisionFrame } from './decision';
import { showDecided, showFailed, showState } from './visibility';

/**
 * One correlation id, one actor: collects each agent's signal until every expected agent has
 * reported or passed its own deadline (the partial-data timeout at the latest), or a decisive
 * signal settles it, then scores, routes and publishes in one local activity, and returns the
 * decision. It does not wait for agents whose circuit breaker was open when it started
 * (`degraded_agents` in its input).
 *
 * Its shape is set by cost. The policy, the first search attributes, the memo and the first
 * messages come with the start (later ones in batch signals), so a bridge in the worker's process
 * starts it eagerly: Temporal hands the first workflow task back with the start, with no trip
 * through the task queue. A correlation whose agents report together is then one start, one
 * workflow task, two activations and seven history events, with no timer at all.
 */
export async function correlationWorkflowV5(input: CorrelationStart): Promise<OrchestrationDecision> {
  return runCorrelation(input, decideInOneStep, { perAgent: true });
}

/**
 * V5's shape without per-agent waiting: every expected agent until the shared timeout, no
 * decisive signals, no breaker. Registered for the correlations an older bridge started and for
 * their recorded histories.
 */
export async function correlationWorkflowV4(input: CorrelationStart): Promise<OrchestrationDecision> {
  return runCorrelation(input, decideInOneStep);
}

/**
 * The same actor, started by signal-with-start: its first messages came in a signal, not in its
 * input. Registered for the correlations an older bridge started and for their recorded
 * histories; a new type for the new start, so that an older worker never takes a correlation whose
 * first messages it would not look for.
 */
export async function correlationWorkflowV3(input: CorrelationStart): Promise<OrchestrationDecision> {
  return runCorrelation(input, decideInOneStep);
}

/**
 * The same actor, deciding in two local activities (score and route, then publish): three
 * activations and nine events. Registered for the correlations an older bridge started and for
 * their recorded histories; nothing starts it any more.
 */
export async function correlationWorkflowV2(input: CorrelationStart): Promise<OrchestrationDecision> {
  return runCorrelation(input, decideInTwoSteps);
}

/** The decision consumers saw, and the instrument to search it by when it rests on these inputs. */
type Decide = (input: Required<DecideInput>) => Promise<{ decision: OrchestrationDecision; instrument?: string }>;

const decideInOneStep: Decide = (input) =>
  localIo.decideAndPublish.executeWithOptions(
    {
      ...LOCAL_PUBLISHING,
      summary: `decide on ${Object.keys(input.signals).length} signal(s) and publish to orchestrated.decision`,
    },
    [input],
  );

async function decideInTwoSteps({
  signals,
  policy,
  frame,
  run_started_at_ms,
}: Required<DecideInput>): ReturnType<Decide> {
  const { instrument, ...routed } = await rules.scoreAndRoute.executeWithOptions(
    { ...LOCAL_RULES, summary: `score and route ${Object.keys(signals).length} signal(s)` },
    [{ signals, policy }],
  );
  const ours = buildDecision(frame, routed);
  const published = await localIo.publishDecision.executeWithOptions(
    { ...LOCAL_PUBLISHING, summary: `publish ${ours.decision.action} to orchestrated.decision` },
    [ours, run_started_at_ms],
  );
  return decisionSeen(ours, published.stored, instrument);
}

async function runCorrelation(
  input: CorrelationStart,
  decide: Decide,
  shape: { perAgent?: boolean } = {},
): Promise<OrchestrationDecision> {
  const { corr_id: corrId, policy, redrive } = checked(input);
  const startedAt = workflowInfo().runStartTime;
  const timeoutAt = new Date(startedAt.getTime() + policy.timeout_ms);
  const correlation = new Correlation(corrId, startedAt.toISOString());
  const waiting = shape.perAgent ? agentWaiting(policy, startedAt.getTime(), input.degraded_agents) : undefined;
  correlation.start(policy, timeoutAt, waiting);

  const receive = (envelope: AgentSignalEnvelope, at: Date): void => {
    const outcome = correlation.receive(envelope, at);
    if (outcome !== 'accepted')
      log.info(`signal ${outcome}`, {
        corr_id: corrId,
        message_id: envelope?.message_id,
        agent: envelope?.signal?.agent_name,
      });
  };
  // What the start brought first: a re-drive's recorded signals, or the messages that started it.
  // Signals that came meanwhile wait in the SDK until their handler is set, just below, and so
  // come after them, in stream order, whenever the first workflow task runs.
  const arrivedAt = new Date();
  for (const envelope of [...(redrive?.signals ?? []), ...(input.signals ?? [])]) receive(envelope, arrivedAt);
  // Registered before the first await, so the signals already received are handled in this task.
  setHandler(agentSignals, (envelopes) => {
    const at = new Date();
    for (const envelope of Array.isArray(envelopes) ? envelopes : [envelopes]) receive(envelope, at);
    showState(correlation);
  });
  setHandler(agentSignal, (envelope) => {
    receive(envelope, new Date());
    showState(correlation);
  });
  setHandler(stateQuery, () => correlation.snapshot());
  showState(correlation);

  try {
    // A re-drive decides at once on the signals it was given: its deadline passed long ago.
    if (waiting && !redrive) {
      await waitPerAgent(correlation);
    } else if (!correlation.readyToDecide && !redrive) {
      await condition(() => correlation.readyToDecide, Math.max(1, timeoutAt.getTime() - Date.now()), {
        summary: `partial-data timeout: waiting for ${correlation.missingAgents().join(', ')}`,
      });
    }
    correlation.beginDeciding();

    const { decision, instrument } = await decide({
      signals: correlation.keptSignals(),
      policy,
      frame: decisionFrame(correlation, policy.version, new Date(), redrive),
      run_started_at_ms: startedAt.getTime(),
    });
    // Decided with agents missing: at a deadline, unless a rule decided it early or it did not wait for them
    // (degraded).
    const timedOut =
      !decision.decided_early && decision.missing_agents.some((agent) => !decision.degraded_agents?.includes(agent));
    correlation.decided(decision, timedOut);
    showState(correlation);
    showDecided(decision, timedOut, instrument);
    // Signal handlers are synchronous, so this holds at once; the check keeps it true if one stops being.
    if (!allHandlersFinished()) await condition(allHandlersFinished);
    return decision;
  } catch (error) {
    // An activity that exhausted its retries fails the workflow, visibly and re-drivable; a bug in
    // this code throws a plain Error instead, which retries the workflow task until it is fixed.
    correlation.failed();
    showState(correlation);
    showFailed();
    throw error;
  }
}

/**
 * Each expected agent's deadline: its own (never past the shared timeout), or the start itself
 * when its breaker was open. Policies from before per-agent waiting have no `agents` or
 * `decisive_signals`: every agent then waits for the timeout, and nothing decides early.
 */
function agentWaiting(policy: Policy, startedAtMs: number, degraded: readonly string[] = []): AgentWaiting {
  const waits = (policy.agents as Policy['agents'] | undefined) ?? {};
  const open = degraded.filter((agent) => policy.expected_agents.includes(agent));
  const deadlines = Object.fromEntries(
    policy.expected_agents.map((agent) => [
      agent,
      open.includes(agent)
        ? startedAtMs
        : startedAtMs + Math.min(waits[agent]?.deadline_ms ?? policy.timeout_ms, policy.timeout_ms),
    ]),
  );
  return {
    deadlines,
    degraded: open,
    decisive: (policy.decisive_signals as Policy['decisive_signals'] | undefined) ?? [],
  };
}

/**
 * Waits until the correlation is ready: every expected agent in or past its deadline, a decisive
 * signal, or the signal limit. One timer at a time, to the next deadline of an agent still awaited;
 * none when it is ready at the first workflow task.
 */
async function waitPerAgent(correlation: Correlation): Promise<void> {
  for (;;) {
    const now = Date.now();
    const next = correlation.readyToDecideAt(now) ? undefined : correlation.nextDeadline(now);
    if (next === undefined) return;
    await condition(() => correlation.readyToDecideAt(Date.now()), Math.max(1, next - now), {
      summary: `waiting for ${correlation.awaitedAgents(now).join(', ')} until ${new Date(next).toISOString()}`,
    });
  }
}

/**
 * The starter validated the policy (the bridge, from its configuration); what the workflow itself
 * relies on is checked again, so a hand-made start fails visibly instead of looping on a TypeError.
 */
function checked(input: CorrelationStart): CorrelationStart {
  const policy = input?.policy;
  if (
    typeof input?.corr_id !== 'string' ||
    !Array.isArray(policy?.expected_agents) ||
    typeof policy.timeout_ms !== 'number' ||
    typeof policy.version !== 'string'
  ) {
    throw ApplicationFailure.nonRetryable(
      'the workflow input needs corr_id and a validated policy (version, expected_agents, timeout_ms): start correlations through the bridge or `orch redrive`',
      'InvalidInput',
    );
  }
  return input;
}
