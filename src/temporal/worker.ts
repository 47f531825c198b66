import type { DataConverter, WorkerDeploymentVersion } from '@temporalio/common';
import {
  type NativeConnection,
  Worker,
  type WorkerDeploymentOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Config } from '../config';
import type { Tracing } from '../observability/tracing';

/** The workflow code's entry point; the SDK bundles it (or a prebuilt bundle is given). */
export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt workflow bundle; the worker bundles src/workflows itself when absent. */
  workflowBundle?: WorkflowBundleOption;
  /** How long in-flight activities may run on after shutdown starts (ms). */
  shutdownGraceMs?: number;
  /** Cache size and workflow-task slots; the SDK's defaults when absent. */
  tuning?: Config['workerTuning'];
  /** Worker Versioning (config.workerDeployment): the Worker Deployment Version this worker polls as. */
  deployment?: WorkerDeploymentVersion;
  /** Payload encryption (config.temporal.dataConverter): the same as every client of the namespace uses. */
  dataConverter?: DataConverter;
  /**
   * Tracing's interceptors and sink, when it is on. Its workflow interceptors must be bundled with
   * the workflow code, so the worker then bundles src/workflows itself, whatever `workflowBundle` says.
   */
  tracing?: Tracing['worker'];
}

/** The orchestrator's worker, configured the same way in production and in tests. */
export function createOrchestratorWorker(options: OrchestratorWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle && !options.tracing
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    ...options.tracing,
    shutdownGraceTime: options.shutdownGraceMs ?? 30_000,
    ...options.tuning,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.deployment ? { workerDeploymentOptions: versioned(options.deployment) } : {}),
  });
}

/**
 * A correlation lives for seconds to minutes, so each one is pinned: it runs to its decision on the
 * build it started on, and a new build never replays a history an older one wrote (no patch needed
 * between versioned builds). Long-lived workflows opt out in their definition (the agent breaker
 * auto-upgrades; src/workflows/agent-breaker-workflow.ts).
 */
function versioned(version: WorkerDeploymentVersion): WorkerDeploymentOptions {
  return { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}
