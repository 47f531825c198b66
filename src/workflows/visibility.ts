/**
 * The workflow's side of what a correlation shows in the Temporal UI: the live "current details"
 * (who reported, who is missing, when the timer fires) and the search attributes of its outcome.
 * The start's attributes, memo and summary come with the start itself (src/shared/correlation-visibility.ts).
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { OrchestrationDecision } from '../contract/decision';
import { decidedSearchAttributes, failedSearchAttributes } from '../shared/correlation-visibility';
import type { Correlation } from './correlation';

/**
 * Shows the correlation's current state as the workflow's current details (kept in memory, served by a query: no
 * event).
 */
export function showState(correlation: Correlation): void {
  setCurrentDetails(correlation.describeWait());
}

export function showDecided(decision: OrchestrationDecision, timedOut: boolean, instrument: string | undefined): void {
  upsertSearchAttributes(decidedSearchAttributes(decision, timedOut, instrument));
}

export function showFailed(): void {
  upsertSearchAttributes(failedSearchAttributes());
}
