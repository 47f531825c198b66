/**
 * The engine's ceiling: the least a workflow can do here. Started by signal-with-start, it takes
 * the one signal and completes, in a single workflow task: no timer, no activity, no query.
 */
import { condition, defineSignal, proxySinks, setHandler, type Sinks } from '@temporalio/workflow';

export const CEILING_WORKFLOW_TYPE = 'ceilingWorkflow';

export const ceilingSignal = defineSignal<[number]>('go');

/** Tells the bench worker (outside the sandbox, no history event) that a workflow is done. */
export interface CeilingSinks extends Sinks {
  bench: { completed(): void };
}

const { bench } = proxySinks<CeilingSinks>();

export async function ceilingWorkflow(): Promise<void> {
  let signalled = false;
  setHandler(ceilingSignal, () => {
    signalled = true;
  });
  await condition(() => signalled);
  bench.completed();
}
