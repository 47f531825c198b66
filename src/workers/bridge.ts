import { SignalBridge } from '../bridge/bridge';
import { connectNativeTemporalClient } from '../client/temporal-client';
import { loadConfig } from '../config';
import { connectNats } from '../nats/connection';
import { declareDlqStream, declareSignalsStream } from '../nats/streams';
import { startHealthServer } from '../observability/http';
import { createLogger } from '../observability/logger';
import { OrchestratorMetrics } from '../observability/metrics';
import { natsConnected, temporalServing } from '../observability/readiness';
import { Resources } from '../process/resources';
import { runMain } from '../process/run-main';
import { shutdownSignal } from '../process/shutdown';

const STATS_INTERVAL_MS = 30_000;

runMain({
  usage: `
Usage: orchestrator-bridge [--help]

Runs the NATS JetStream -> Temporal bridge: a durable pull consumer on the SIGNALS stream
(signals.enriched.>) that validates each agent message and signals its correlation's workflow
(signal-with-start, one batch signal for a correlation's messages that arrive within
ORCH_BRIDGE_BATCH_WINDOW_MS). New correlations run under the policy of ORCH_POLICY_FILE. Bad
messages go to signals.dlq with their reason. Creates the SIGNALS and DLQ streams and the
consumer if missing, or brings them to the configured limits; refuses to start when SIGNALS would
keep a message longer than the Temporal namespace keeps its correlation's run. Stops on SIGINT or
SIGTERM after the messages in flight are handled.`,
  async main() {
    const config = loadConfig();
    const logger = createLogger(config.logLevel, 'bridge');
    const metrics = new OrchestratorMetrics();
    const resources = new Resources();
    try {
      const nc = resources.add(await connectNats(config.nats, 'orchestrator-bridge', logger), (c) => c.drain());
      const client = resources.add(await connectNativeTemporalClient(config.temporal), (c) => c.connection.close());
      const bridge = new SignalBridge({
        js: nc.jetstream(),
        jsm: await nc.jetstreamManager(),
        client,
        taskQueue: config.taskQueue,
        policy: config.policy,
        logger,
        metrics,
        streams: { signals: declareSignalsStream(config.streams), dlq: declareDlqStream(config.streams) },
        ...config.bridge,
      });
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
      logger.info({ task_queue: config.taskQueue, durable: config.bridge.durableName, payload_encryption_key: config.codec?.currentKeyId ?? null }, 'bridge consuming');
      const statsTimer = setInterval(() => logger.info(bridge.snapshot(), 'bridge stats'), STATS_INTERVAL_MS);

      logger.info({ signal: await shutdownSignal() }, 'bridge stopping');
      clearInterval(statsTimer);
      await resources.closeAll();
      logger.info(bridge.snapshot(), 'bridge stopped');
    } catch (error) {
      logger.error({ err: error }, 'bridge failed');
      throw error;
    } finally {
      await resources.closeAll();
    }
  },
});
