import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { DEFAULT_POLICY, DEFAULT_STREAMS } from '../../src/config';
import { declareDecisionsStream } from '../../src/nats/streams';
import type { Policy } from '../../src/contract/policy';
import { createOrchestratorWorker } from '../../src/temporal/worker';
import { WORKFLOW_BUNDLE_PATH } from './paths';
import type { TestNats } from './servers';

/** The production worker, on the test environment's server, with the prebuilt bundle and real NATS. */
export function createTestWorker(
  env: TestWorkflowEnvironment,
  nats: TestNats,
  taskQueue: string,
  policy: Policy = DEFAULT_POLICY,
): Promise<Worker> {
  return createOrchestratorWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: createActivities({
      policy,
      js: nats.js,
      jsm: nats.jsm,
      decisions: declareDecisionsStream(DEFAULT_STREAMS),
    }),
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
  });
}
