/**
 * A workflow interceptor for tests that counts activations: how many times the worker ran a
 * workflow's code for one run. Reported through a sink, outside history.
 */
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory, workflowInfo } from '@temporalio/workflow';

export interface ActivationSinks extends Sinks {
  activations: { count(runId: string): void };
}

const { activations } = proxySinks<ActivationSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      activate(input, next) {
        // An activation can be run in several batches of jobs; count it once.
        if (input.batchIndex === 0) activations.count(workflowInfo().runId);
        return next(input);
      },
    },
  ],
});
