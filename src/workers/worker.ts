import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../config';
import { connectNats } from '../nats/connection';
import { createLogger, installTemporalRuntimeLogger } from '../observability/logger';
import { Resources } from '../process/resources';
import { runMain } from '../process/run-main';
import { createOrchestratorWorker } from './create-worker';

runMain({
  usage: `
Usage: orchestrator-worker [--help]

Runs the Temporal worker of the orchestrator: the correlation workflow and its scoring, routing and
publishing activities. Connects to Temporal and NATS as configured below and stops gracefully on
SIGINT or SIGTERM (in-flight activities get ORCH_SHUTDOWN_GRACE_MS to finish).`,
  async main() {
    const config = loadConfig();
    const logger = createLogger(config.logLevel, 'worker');
    installTemporalRuntimeLogger(logger, config.logLevel);
    const resources = new Resources();
    try {
      const nc = resources.add(await connectNats(config.nats.servers, 'orchestrator-worker', logger), (c) => c.drain());
      const connection = resources.add(await NativeConnection.connect(config.temporal.connectionOptions), (c) => c.close());
      const activities = createActivities({
        policy: config.policy,
        js: nc.jetstream(),
        jsm: await nc.jetstreamManager(),
        decisionDedupeWindowMs: config.nats.decisionDedupeWindowMs,
      });
      const worker = await createOrchestratorWorker({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.taskQueue,
        activities,
        shutdownGraceMs: config.shutdownGraceMs,
      });
      logger.info(
        { task_queue: config.taskQueue, namespace: config.temporal.namespace, policy_version: config.policy.version },
        'worker polling',
      );
      // Resolves after the SDK's own SIGINT/SIGTERM handling has shut the worker down gracefully.
      await worker.run();
      logger.info('worker stopped');
    } catch (error) {
      logger.error({ err: error }, 'worker failed');
      throw error;
    } finally {
      await resources.closeAll();
    }
  },
});
