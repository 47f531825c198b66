import { type Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { configuredBridge, type SignalBridge } from '../bridge/bridge';
import { clientOn } from '../temporal/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { BreakerReporter } from '../agent-health/reporter';
import { type Config, loadConfig } from '../config';
import { DeploymentRoutingWatch } from '../bridge/deployment-routing';
import { connectNats } from '../nats/connection';
import { declareDecisionsStream, describeStreamChange, reconcileStream } from '../nats/streams';
import { startHealthServer } from '../observability/http';
import { createLogger, installTemporalRuntime } from '../observability/logger';
import { signalsConsumerBacklog } from '../observability/consumer-backlog';
import { OrchestratorMetrics } from '../observability/metrics';
import { startTracing } from '../observability/tracing';
import { natsConnected, temporalServing } from '../observability/readiness';
import { getFreePort } from '../process/free-port';
import { Resources } from '../process/resources';
import { runMain } from '../process/run-main';
import { shutdownSignal } from '../process/shutdown';
import { createOrchestratorWorker } from '../temporal/worker';

runMain({
  usage: `
Usage: orchestrator-worker [--help]

Runs the Temporal worker of the orchestrator: the correlation workflow and its scoring, routing and
publishing activities, and each agent's circuit breaker (a long-lived workflow it reports the
correlations' outcomes to, about once a second); with ORCH_WORKER_RUNS_BRIDGE=true also the NATS
bridge, which then starts
correlations eagerly on this worker. Connects to Temporal and NATS as configured below and stops
gracefully on SIGINT or SIGTERM (the bridge drains its messages; in-flight activities get
ORCH_SHUTDOWN_GRACE_MS to finish).`,
  async main() {
    const config = loadConfig();
    const logger = createLogger(config.logLevel, 'worker');
    // The SDK serves its metrics on an internal port; /metrics adds them to the orchestrator's own.
    const sdkMetricsUrl = config.httpPort > 0 ? `127.0.0.1:${await getFreePort()}` : undefined;
    installTemporalRuntime(logger, config.logLevel, sdkMetricsUrl);
    const metrics = new OrchestratorMetrics();
    const resources = new Resources();
    try {
      // Shut down last: the spans of everything else's shutdown are exported too.
      const tracing = config.tracing
        ? resources.add(await startTracing('orchestrator-worker', logger), (t) => t.shutdown())
        : undefined;
      const nc = resources.add(await connectNats(config.nats, 'orchestrator-worker', logger), (c) => c.drain());
      const connection = resources.add(await NativeConnection.connect(config.temporal.connectionOptions), (c) =>
        c.close(),
      );
      const jsm = await nc.jetstreamManager();
      const decisions = declareDecisionsStream(config.streams);
      // Before the first decision: a DECISIONS stream left with a shorter duplicate window (an
      // operator's, or JetStream's 2-minute default) would let a late second publish through.
      for (const change of await reconcileStream(jsm, decisions)) logger.warn(change, describeStreamChange(change));
      const client = clientOn(config.temporal, connection, tracing?.clientInterceptors);
      // Flushed (its last second of outcomes) before the connection closes.
      const outcomes = resources.add(new BreakerReporter(client, config.taskQueue, logger), (r) => r.stop());
      outcomes.start();
      const activities = createActivities({
        policy: config.policy,
        js: nc.jetstream(),
        jsm,
        decisions,
        metrics,
        outcomes,
      });
      const worker = await createOrchestratorWorker({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.taskQueue,
        activities,
        shutdownGraceMs: config.shutdownGraceMs,
        tuning: config.workerTuning,
        dataConverter: config.temporal.dataConverter,
        ...(config.workerDeployment ? { deployment: config.workerDeployment } : {}),
        ...(config.workflowBundlePath ? { workflowBundle: { codePath: config.workflowBundlePath } } : {}),
        ...(tracing ? { tracing: tracing.worker } : {}),
      });
      // The bridge in this process starts correlations on the worker's own connection, so Temporal
      // can hand each one's first workflow task straight back to this worker (eager start).
      const bridge = config.workerRunsBridge
        ? configuredBridge(config, {
            js: nc.jetstream(),
            jsm,
            client,
            logger,
            metrics,
            eagerStart: eagerStartGate(config, client, logger, metrics, resources),
          })
        : undefined;
      if (bridge) metrics.trackBridge(signalsConsumerBacklog(jsm, config.bridge.durableName));
      if (config.httpPort > 0) {
        const probeConnection = resources.add(await Connection.connect(config.temporal.connectionOptions), (c) =>
          c.close(),
        );
        const probe = resources.add(temporalServing(probeConnection), async (p) => p.stop());
        const health = await startHealthServer({
          port: config.httpPort,
          readiness: {
            temporal: probe.check,
            nats: natsConnected(nc),
            polling: () => worker.getState() === 'RUNNING',
            ...(bridge ? { consuming: () => bridge.isConsuming() } : {}),
          },
          metrics: async () =>
            `${await metrics.registry.metrics()}\n${await fetchText(`http://${sdkMetricsUrl}/metrics`)}`,
        });
        resources.add(health, (h) => h.close());
        logger.info({ port: health.port }, 'serving /livez, /readyz and /metrics');
      }
      // Resolves after the SDK's own SIGINT/SIGTERM handling has shut the worker down gracefully.
      const running = worker.run();
      if (bridge) await startBridge(bridge, worker, running, resources);
      logger.info(
        {
          task_queue: config.taskQueue,
          bridge: bridge
            ? `in this process, durable ${config.bridge.durableName}, eager start${config.workerDeployment ? ' while this build is current' : ''}`
            : 'none (ORCH_WORKER_RUNS_BRIDGE=false)',
          namespace: config.temporal.namespace,
          worker_deployment_version: config.workerDeployment
            ? `${config.workerDeployment.deploymentName}:${config.workerDeployment.buildId} (pinned correlations)`
            : 'unversioned',
          policy_version: config.policy.version,
          max_cached_workflows: worker.options.maxCachedWorkflows,
          workflow_task_slots: workflowTaskSlots(worker),
          non_sticky_to_sticky_poll_ratio: worker.options.nonStickyToStickyPollRatio,
          payload_encryption_key: config.codec?.currentKeyId ?? null,
          // On, the workflow code is bundled at start with tracing's interceptors (ORCH_WORKFLOW_BUNDLE has none).
          tracing: config.tracing ? 'OTLP, workflows bundled at start' : 'off',
        },
        'worker polling',
      );
      await running;
      logger.info('worker stopped');
    } catch (error) {
      logger.error({ err: error }, 'worker failed');
      throw error;
    } finally {
      await resources.closeAll();
    }
  },
});

/**
 * When the bridge in this process starts a correlation eagerly: always on an unversioned worker; on
 * a versioned one, while its build gets all of its deployment's new work (src/bridge/deployment-routing.ts).
 */
function eagerStartGate(
  config: Config,
  client: Client,
  logger: Logger,
  metrics: OrchestratorMetrics,
  resources: Resources,
): () => boolean {
  if (!config.workerDeployment) {
    metrics.eagerStart.set(1);
    return () => true;
  }
  const watch = new DeploymentRoutingWatch(client, config.workerDeployment, logger, (sole) =>
    metrics.eagerStart.set(sole ? 1 : 0),
  );
  metrics.eagerStart.set(0);
  resources.add(watch, (w) => w.stop()).start();
  return watch.isSoleTarget;
}

/**
 * Starts the bridge once the worker runs (an eager start needs a worker to hand its task to), and
 * stops it at the first SIGINT or SIGTERM, while the SDK drains the worker; if it cannot start
 * (a configuration it refuses), the worker stops too.
 */
async function startBridge(
  bridge: SignalBridge,
  worker: Worker,
  running: Promise<void>,
  resources: Resources,
): Promise<void> {
  try {
    await bridge.start();
  } catch (error) {
    worker.shutdown();
    await running;
    throw error;
  }
  resources.add(bridge, (b) => b.stop());
  void shutdownSignal().then(() => bridge.stop());
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  return response.text();
}

/** The worker's workflow-task slots, from the tuner the SDK compiles the options into. */
function workflowTaskSlots(worker: Worker): number | undefined {
  const supplier = worker.options.tuner.workflowTaskSlotSupplier;
  return supplier.type === 'fixed-size' ? supplier.numSlots : undefined;
}
