/**
 * The engine's ceilings: the least a workflow can do here, in two shapes. Both are started by
 * signal-with-start, as correlations are.
 * - C1, `ceilingWorkflow`: takes one signal and completes, in a single workflow task.
 * - C2, `ceilingFanInWorkflow`: a correlation's engine work without its logic. It takes the
 *   batch signals the bench's copy of the bridge's batching sends, waits for all of them (or its
 *   timeout), runs one no-op local activity and completes.
 */
import {
  condition,
  defineSignal,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  type Sinks,
} from '@temporalio/workflow';

export const CEILING_WORKFLOW_TYPE = 'ceilingWorkflow';
export const FAN_IN_WORKFLOW_TYPE = 'ceilingFanInWorkflow';

export const ceilingSignal = defineSignal<[number]>('go');
/** The agents (by index) of one batch. */
export const fanInSignal = defineSignal<[number[]]>('arrivals');

/** Tells the bench worker (outside the sandbox, no history event) that a workflow is done. */
export interface CeilingSinks extends Sinks {
  bench: { completed(): void };
}

export interface CeilingActivities {
  noop(): Promise<void>;
}

const { bench } = proxySinks<CeilingSinks>();
const { noop } = proxyLocalActivities<CeilingActivities>({ startToCloseTimeout: '10s' });

export async function ceilingWorkflow(): Promise<void> {
  let signalled = false;
  setHandler(ceilingSignal, () => {
    signalled = true;
  });
  await condition(() => signalled);
  bench.completed();
}

export async function ceilingFanInWorkflow(input: { expected: number; timeoutMs: number }): Promise<void> {
  let received = 0;
  setHandler(fanInSignal, (agents) => {
    received += agents.length;
  });
  if (received < input.expected) await condition(() => received >= input.expected, input.timeoutMs);
  await noop();
  bench.completed();
}
