/**
 * One agent's circuit breaker as a long-lived entity workflow, so its state survives worker
 * restarts, is the same for every worker on the task queue, and shows in the Temporal UI. Workers
 * send it batches of outcomes (signal-with-start, about one a second); starters read it with a
 * query. It turns half-open on a durable timer, logs each transition once, and continues as new
 * before its history grows long.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { type AgentBreakerInput, agentOutcomes, breakerStateQuery } from '../shared/agent-breaker-api';
import { AgentBreaker, type BreakerSnapshot, type BreakerTransition } from './agent-breaker';

/** Outcome batches per run before continue-as-new: about a quarter of an hour at one a second. */
export const BATCHES_PER_RUN = 1_000;

export async function agentBreakerWorkflow(input: AgentBreakerInput): Promise<never> {
  const breaker = new AgentBreaker(input.agent, input.settings, input.snapshot);
  let batches = 0;
  const changed = (transition: BreakerTransition | undefined): void => {
    if (transition)
      log.warn(
        `circuit breaker of agent ${input.agent}: ${transition.from} -> ${transition.to} (${transition.reason})`,
        { agent: input.agent, ...transition },
      );
    setCurrentDetails(describe(breaker.snapshot()));
  };
  setHandler(agentOutcomes, ({ outcomes, settings }) => {
    breaker.configure(settings);
    const now = new Date();
    for (const { outcome } of outcomes) changed(breaker.record(outcome, now));
    batches++;
  });
  setHandler(breakerStateQuery, () => breaker.snapshot());
  changed(undefined);

  for (;;) {
    const due = breaker.halfOpenAtMs;
    const rollOver = (): boolean =>
      batches >= (input.batches_per_run ?? BATCHES_PER_RUN) || workflowInfo().continueAsNewSuggested;
    // Wakes for the half-open time, a new open (a new due time), or the roll-over.
    const wake = (): boolean => rollOver() || breaker.halfOpenAtMs !== due;
    if (due === undefined) await condition(wake);
    else await condition(wake, Math.max(1, due - Date.now()));
    changed(breaker.tick(new Date()));
    if (rollOver()) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof agentBreakerWorkflow>({
        ...input,
        settings: breaker.snapshot().settings,
        snapshot: breaker.snapshot(),
      });
    }
  }
}

// It never ends, so under Worker Versioning it moves to each new current build (at its next task)
// instead of keeping an old one alive: a change to it still needs patched(). Only a versioned
// worker may say so; Temporal refuses a behaviour from an unversioned one and fails the task.
setWorkflowOptions(
  () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' } : {}),
  agentBreakerWorkflow,
);

/** Markdown for the UI's current details. */
function describe(s: BreakerSnapshot): string {
  const lines = [
    `**${s.state}**: circuit breaker of agent \`${s.agent}\``,
    `- misses in a row: ${s.consecutive_misses} (opens at ${s.settings.failure_threshold})`,
    `- counted: ${s.reported} reported, ${s.missed} missed`,
  ];
  if (s.half_open_at) lines.push(`- half-open at ${s.half_open_at}`);
  if (s.last_transition)
    lines.push(
      `- last change: ${s.last_transition.from} -> ${s.last_transition.to} at ${s.last_transition.at} (${s.last_transition.reason})`,
    );
  return lines.join('\n');
}
