/**
 * Whether a versioned worker's build is where Temporal sends every new workflow: the current version
 * of its Worker Deployment, with nothing ramping. Only then may the bridge in its process start a
 * correlation eagerly. Temporal 1.29 hands an eager start's first workflow task to the starting
 * worker whatever the deployment's routing says, and the correlation is then pinned to that build:
 * a build that is being replaced would keep taking new correlations (seen in
 * test/e2e/versioned-rollout.test.ts). A plain start lets Temporal route it.
 */
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';

type RoutingConfig = temporal.api.deployment.v1.RoutingConfig.$Properties;

/** How often the routing is read: a new current version takes eager starts off within this (ms). */
const ROUTING_POLL_MS = 2_000;

/** True when `routing` sends all new workflows to `version`. */
export function routesAllNewWorkTo(
  routing: RoutingConfig | null | undefined,
  version: WorkerDeploymentVersion,
): boolean {
  const current = routing?.currentDeploymentVersion;
  const ramping = (routing?.rampingVersionPercentage ?? 0) > 0 || Boolean(routing?.rampingDeploymentVersion?.buildId);
  return current?.deploymentName === version.deploymentName && current.buildId === version.buildId && !ramping;
}

export class DeploymentRoutingWatch {
  private sole = false;
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private lastError?: string;

  constructor(
    private readonly client: Client,
    private readonly version: WorkerDeploymentVersion,
    private readonly logger: Logger,
    private readonly onChange: (sole: boolean) => void = () => undefined,
    private readonly pollMs = ROUTING_POLL_MS,
  ) {}

  /** Reads the routing now, then every `pollMs` until stopped. */
  start(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reading;
  }

  /** For the bridge: start eagerly now? False until the routing has been read once. */
  readonly isSoleTarget = (): boolean => this.sole;

  private poll(): void {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
  }

  private async read(): Promise<void> {
    let sole: boolean;
    try {
      const { workerDeploymentInfo } = await this.client.workflowService.describeWorkerDeployment({
        namespace: this.client.options.namespace,
        deploymentName: this.version.deploymentName,
      });
      sole = routesAllNewWorkTo(workerDeploymentInfo?.routingConfig, this.version);
      this.lastError = undefined;
    } catch (error) {
      // NOT_FOUND until the deployment's first worker has polled; otherwise Temporal is out of
      // reach, and then no start succeeds either way.
      sole = false;
      const message = (error as Error).message;
      if (message !== this.lastError)
        this.logger.debug(
          { err: error },
          'cannot read the worker deployment routing: correlations start without eager dispatch',
        );
      this.lastError = message;
    }
    if (sole === this.sole) return;
    this.sole = sole;
    const { deploymentName, buildId } = this.version;
    this.logger.info(
      { deployment: deploymentName, build_id: buildId, eager_start: sole },
      sole
        ? `build ${buildId} is the current version of worker deployment ${deploymentName}, with nothing ramping: new correlations start eagerly`
        : `build ${buildId} is not the only target of worker deployment ${deploymentName}: new correlations start through Temporal's routing, not eagerly`,
    );
    this.onChange(sole);
  }
}
