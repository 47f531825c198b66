/**
 * The correlation workflow's public surface: its id scheme, task queue, types, signals and query.
 * Shared by the workflow, the bridge and the CLI; it imports no workflow code and no Node modules.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AgentSignal } from '../contract/agent-signal';
import type { CorrelationState } from '../contract/correlation-state';
import type { Policy, PolicyInput } from '../contract/policy';

export const WORKFLOW_ID_PREFIX = 'corr-';
export const DEFAULT_TASK_QUEUE = 'orchestrator';

/**
 * The workflow type new correlations start as: its first messages come in its start input, so a
 * bridge next to a worker can start it eagerly (the first workflow task comes back with the
 * start); one workflow task when the agents report close together, and one step to decide; each
 * agent waited for until its own deadline, decisive signals deciding at once, agents with an open
 * breaker not waited for (see src/workflows/batched-correlation.ts).
 */
export const WORKFLOW_TYPE = 'correlationWorkflowV5';
/** The eager shape before per-agent waiting, still registered for correlations in flight and recorded histories. */
export const WORKFLOW_TYPE_V4 = 'correlationWorkflowV4';
/**
 * The shape whose first messages came in a signal, still registered for correlations in flight and recorded histories.
 */
export const WORKFLOW_TYPE_V3 = 'correlationWorkflowV3';
/** The batched shape that decided in two steps, still registered for correlations in flight and recorded histories. */
export const WORKFLOW_TYPE_V2 = 'correlationWorkflowV2';
/**
 * The first shape, still registered so correlations started by an older bridge, and their
 * recorded histories, keep working.
 */
export const WORKFLOW_TYPE_V1 = 'correlationWorkflow';
/** Every workflow type a correlation can run as: what visibility queries and history readers accept. */
export const WORKFLOW_TYPES: readonly string[] = [
  WORKFLOW_TYPE_V1,
  WORKFLOW_TYPE_V2,
  WORKFLOW_TYPE_V3,
  WORKFLOW_TYPE_V4,
  WORKFLOW_TYPE,
];

/** The workflow id of a correlation: one correlation, one actor. */
export function workflowIdFor(corrId: string): string {
  return `${WORKFLOW_ID_PREFIX}${corrId}`;
}

/** One validated agent message, as delivered to the correlation workflow. */
export interface AgentSignalEnvelope {
  /** Unique per message (the JetStream stream sequence); redeliveries carry the same id. */
  message_id: string;
  signal: AgentSignal;
}

/** Runs a correlation again from its recorded signals, e.g. after it failed (`orch redrive`). */
export interface Redrive {
  /** The run whose signals these are. */
  of: { workflow_id: string; run_id: string };
  /** Recorded in order at the start; the correlation then decides at once on them. */
  signals: AgentSignalEnvelope[];
}

/** The input of `correlationWorkflowV4` (and of V3 and V2, which never had `signals`). */
export interface CorrelationStart {
  corr_id: string;
  /** The messages that started the correlation (V4): received before any signal, in stream order. */
  signals?: AgentSignalEnvelope[];
  /**
   * The policy the correlation runs under, validated by whoever starts it (the bridge: its
   * configured policy). It is recorded in the start event, so a policy change never alters a
   * correlation in flight, and the workflow needs no step to look it up.
   */
  policy: Policy;
  /**
   * V5: expected agents whose circuit breaker was open when the correlation started (read by the
   * starter from the breaker's state). The run does not wait for them, and its decision names the
   * missing ones `degraded_agents`. Recorded in the start event, so replay sees the same.
   */
  degraded_agents?: string[];
  redrive?: Redrive;
}

/** The input of the first shape, `correlationWorkflow`. */
export interface CorrelationInput {
  corr_id: string;
  /** A policy for this correlation only; the worker's policy applies when absent. */
  policy?: PolicyInput;
  redrive?: Redrive;
}

/** Signals, not updates: agents publish and move on, and JetStream holds the message until Temporal has it. */
export const agentSignal = defineSignal<[AgentSignalEnvelope]>('agentSignal');
/**
 * A correlation's messages that reached the bridge close together, in stream order: one signal,
 * one history event and one workflow task for all of them. Each keeps its own message id.
 */
export const agentSignals = defineSignal<[AgentSignalEnvelope[]]>('agentSignals');
export const stateQuery = defineQuery<CorrelationState>('state');
