import { configuredBridge } from '../bridge/bridge';
import { connectNativeTemporalClient } from '../temporal/client';
import { loadConfig } from '../config';
import { connectNats } from '../nats/connection';
import { startHealthServer } from '../observability/http';
import { createLogger } from '../observability/logger';
import { signalsConsumerBacklog } from '../observability/consumer-backlog';
import { OrchestratorMetrics } from '../observability/metrics';
import { startTracing } from '../observability/tracing';
import { natsConnected, temporalServing } from '../observability/readiness';
import { Resources } from '../process/resources';
import { runMain } from '../process/run-main';
import { shutdownSignal } from '../process/shutdown';

runMain({
  usage: `
Usage: orchestrator-bridge [--help]

Runs the NATS JetStream -> Temporal bridge on its own: a durable pull consumer on the SIGNALS
stream (signals.enriched.>) that validates each agent message and hands it to its correlation's
workflow: the first messages in the start, later ones as a batch signal (a correlation's messages
that arrive within ORCH_BRIDGE_BATCH_WINDOW_MS go together). A worker with
ORCH_WORKER_RUNS_BRIDGE=true runs the same bridge in its own process and starts correlations
eagerly; this one is for scaling bridges apart from workers. New correlations run under the
policy of ORCH_POLICY_FILE. Bad messages go to signals.dlq with their reason. Creates the SIGNALS
and DLQ streams and the consumer if missing, or brings them to the configured limits; refuses to
start when SIGNALS would keep a message longer than the Temporal namespace keeps its
correlation's run. Stops on SIGINT or SIGTERM after the messages in flight are handled.`,
  async main() {
    const config = loadConfig();
    const logger = createLogger(config.logLevel, 'bridge');
    const metrics = new OrchestratorMetrics();
    const resources = new Resources();
    try {
      // Shut down last: the spans of the messages drained at shutdown are exported too.
      const tracing = config.tracing
        ? resources.add(await startTracing('orchestrator-bridge', logger), (t) => t.shutdown())
        : undefined;
      const nc = resources.add(await connectNats(config.nats, 'orchestrator-bridge', logger), (c) => c.drain());
      const client = resources.add(
        await connectNativeTemporalClient(config.temporal, tracing?.clientInterceptors),
        (c) => c.connection.close(),
      );
      // No worker shares this process's connection, so correlations start through the task queue.
      const bridge = configuredBridge(config, {
        js: nc.jetstream(),
        jsm: await nc.jetstreamManager(),
        client,
        logger,
        metrics,
        eagerStart: () => false,
      });
      metrics.trackBridge(signalsConsumerBacklog(await nc.jetstreamManager(), config.bridge.durableName));
      await bridge.start();
      resources.add(bridge, (b) => b.stop());
      if (config.httpPort > 0) {
        const probe = temporalServing(client.connection);
        resources.add(probe, async (p) => p.stop());
        const health = await startHealthServer({
          port: config.httpPort,
          readiness: { temporal: probe.check, nats: natsConnected(nc), consuming: () => bridge.isConsuming() },
          metrics: () => metrics.registry.metrics(),
        });
        resources.add(health, (h) => h.close());
        logger.info({ port: health.port }, 'serving /livez, /readyz and /metrics');
      }
      logger.info(
        {
          task_queue: config.taskQueue,
          durable: config.bridge.durableName,
          payload_encryption_key: config.codec?.currentKeyId ?? null,
        },
        'bridge consuming',
      );
      logger.info({ signal: await shutdownSignal() }, 'bridge stopping');
      await resources.closeAll();
    } catch (error) {
      logger.error({ err: error }, 'bridge failed');
      throw error;
    } finally {
      await resources.closeAll();
    }
  },
});
