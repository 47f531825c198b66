import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectTemporalClient } from '../client/temporal-client';
import { loadConfig } from '../config';
import { runMain } from '../process/run-main';
import { runDemoCorrelation } from './demo';
import { startLocalStack } from './local-stack';
import { repoRoot } from './tools';

const DEMO_TIMEOUT_MS = 60_000;

runMain({
  usage: `
Usage: npm start [-- [--once] [--data-dir DIR] [--temporal-port N] [--ui-port N] [--nats-port N]]

Starts the orchestrator locally: the Temporal dev server with its web UI, nats-server with
JetStream, and the worker. Everything persists under --data-dir (default .data), so a second start
resumes in-flight correlations. Runs one demo correlation and prints its decision, then keeps the
stack up until Ctrl-C (or stops at once with --once).

Options:
  --once              stop after the demo decision
  --data-dir DIR      data and logs (default: .data)
  --temporal-port N   Temporal gRPC port (default: 7233)
  --ui-port N         Temporal web UI port (default: 8233)
  --nats-port N       NATS client port (default: 4222)`,
  async main(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        once: { type: 'boolean', default: false },
        'data-dir': { type: 'string', default: join(repoRoot(), '.data') },
        'temporal-port': { type: 'string', default: '7233' },
        'ui-port': { type: 'string', default: '8233' },
        'nats-port': { type: 'string', default: '4222' },
      },
    });
    const say = (line: string): void => void process.stdout.write(`${line}\n`);
    const started = Date.now();
    const stack = await startLocalStack(
      {
        dataDir: values['data-dir'],
        temporalPort: Number(values['temporal-port']),
        uiPort: Number(values['ui-port']),
        natsPort: Number(values['nats-port']),
      },
      say,
    );
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopping ??= stack.stop().then(() => say('stopped')));
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());

    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    say(`  Temporal UI   ${stack.temporal.uiUrl}`);
    say(`  Temporal      ${stack.temporal.address}`);
    say(`  NATS          ${stack.nats.url}`);
    say(`  logs          ${stack.logDir}`);

    const config = loadConfig({ ...process.env, ...stack.env });
    const client = await connectTemporalClient(config.temporal);
    const corrId = `demo-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`;
    say(`running demo correlation ${corrId} (momentum + risk on BTC/USD)`);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no decision after ${DEMO_TIMEOUT_MS / 1000}s; see ${join(stack.logDir, 'worker.log')}`)), DEMO_TIMEOUT_MS).unref(),
    );
    try {
      const decision = await Promise.race([runDemoCorrelation(client, config.taskQueue, corrId), timeout]);
      say(`decision: ${JSON.stringify(decision, null, 2)}`);
      say(`see it in the UI: ${stack.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/corr-${corrId}`);
    } finally {
      await client.connection.close();
    }
    if (values.once) {
      await stop();
      return;
    }
    say('running; press Ctrl-C to stop');
    await new Promise<void>((resolve) => {
      const wait = setInterval(() => stopping && stopping.then(() => { clearInterval(wait); resolve(); }), 200);
    });
  },
});
