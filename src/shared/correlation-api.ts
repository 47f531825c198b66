/**
 * The correlation workflow's public surface: its id scheme, task queue, signal and query. Shared by
 * the workflow, the bridge and the CLI; it imports no workflow code and no Node modules.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AgentSignal } from '../contract/agent-signal';
import type { CorrelationState } from '../contract/correlation-state';
import type { PolicyInput } from '../contract/policy';

export const WORKFLOW_ID_PREFIX = 'corr-';
export const DEFAULT_TASK_QUEUE = 'orchestrator';
export const WORKFLOW_TYPE = 'correlationWorkflow';

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

export interface CorrelationInput {
  corr_id: string;
  /** A policy for this correlation only; the worker's policy applies when absent. */
  policy?: PolicyInput;
  redrive?: Redrive;
}

/** A signal, not an update: agents publish and move on, and JetStream holds the message until Temporal has it. */
export const agentSignal = defineSignal<[AgentSignalEnvelope]>('agentSignal');
export const stateQuery = defineQuery<CorrelationState>('state');
