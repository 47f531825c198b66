import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { ConfigError } from '../config';
import { runMain } from '../process/run-main';
import { shutdownSignal } from '../process/shutdown';
import { SIGNALS_STREAM } from '../nats/streams';
import { publishDemoCorrelation } from './demo';
import { startDemoFeed } from './demo-feed';
import { MAX_COPIES, startLocalStack } from './local-stack';
import { formatProgress, watchProgress } from './progress';
import { repoRoot } from './tools';

const DEMO_TIMEOUT_MS = 60_000;
const PROGRESS_EVERY_MS = 5_000;

runMain({
  usage: `
Usage: npm start [-- [options]]

Starts the orchestrator locally: an engine (Temporal and NATS), and the worker with the bridge in
its process. Everything persists under --data-dir, so a second start resumes in-flight
correlations. Publishes one demo correlation on NATS and prints its decision, then runs a demo
feed of agents and prints progress until Ctrl-C.

Options:
  --engine E             dev: the Temporal CLI's dev server with its web UI (SQLite) and one
                         nats-server (default). cluster: the production shape: PostgreSQL, two
                         Temporal server nodes behind one frontend address, the standalone UI, and
                         a three-node NATS cluster with the streams at R3 (data in <data-dir>/cluster)
  --once                 stop after the first demo decision
  --workers N            orchestrator workers on the task queue, each with the bridge in its
                         process (default: 1)
  --bridges N            bridges of their own on the same durable consumer (default: 0)
  --feed-rate N          demo correlations per second, 0 for none (default: 2)
  --partial-share X      share of demo correlations whose risk agent never reports (default: 0.1)
  --data-dir DIR         data and logs (default: .data)
  --temporal-port N      Temporal gRPC port (default: 7233)
  --ui-port N            Temporal web UI port (default: 8233)
  --nats-port N          NATS client port; a cluster's other nodes take the next two (default: 4222)`,
  async main(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        engine: { type: 'string', default: 'dev' },
        once: { type: 'boolean', default: false },
        workers: { type: 'string', default: '1' },
        bridges: { type: 'string', default: '0' },
        'feed-rate': { type: 'string', default: '2' },
        'partial-share': { type: 'string', default: '0.1' },
        'data-dir': { type: 'string', default: join(repoRoot(), '.data') },
        'temporal-port': { type: 'string', default: '7233' },
        'ui-port': { type: 'string', default: '8233' },
        'nats-port': { type: 'string', default: '4222' },
      },
    });
    const engine = values.engine;
    if (engine !== 'dev' && engine !== 'cluster')
      throw new ConfigError(`--engine: expected dev or cluster, got "${engine}"`);
    const count = (option: 'workers' | 'bridges', least: number): number => {
      const n = Number(values[option]);
      if (!Number.isInteger(n) || n < least || n > MAX_COPIES)
        throw new ConfigError(
          `--${option}: expected a whole number from ${least} to ${MAX_COPIES}, got "${values[option]}"`,
        );
      return n;
    };
    const [workers, bridges] = [count('workers', 1), count('bridges', 0)];
    const say = (line: string): void => void process.stdout.write(`${line}\n`);
    const started = Date.now();
    const stack = await startLocalStack(
      {
        engine,
        workers,
        bridges,
        // Each engine keeps its own data: a cluster cannot resume from a dev server's SQLite file.
        dataDir: engine === 'cluster' ? join(values['data-dir'], 'cluster') : values['data-dir'],
        temporalPort: Number(values['temporal-port']),
        uiPort: Number(values['ui-port']),
        natsPort: Number(values['nats-port']),
      },
      say,
    );
    const nc = await connect({
      servers: stack.natsUrl.split(','),
      name: 'orchestrator-local-stack',
      maxReconnectAttempts: -1,
    });
    const js = nc.jetstream();
    const stopStack = async (): Promise<void> => {
      await nc.drain();
      await stack.stop();
      say('stopped');
    };

    try {
      // The bridge (in the worker) creates the SIGNALS stream as it starts.
      const jsm = await nc.jetstreamManager();
      while (
        !(await jsm.streams.info(SIGNALS_STREAM).then(
          () => true,
          () => false,
        ))
      )
        await new Promise((r) => setTimeout(r, 100));

      say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      say(`  Temporal UI   ${stack.uiUrl}`);
      if (stack.engine.kind === 'cluster') {
        const { temporalNodes, postgres } = stack.engine;
        say(
          `  Temporal      ${stack.temporalAddress} (frontends of ${temporalNodes.map((n) => `${n.name} ${n.frontendAddress}`).join(', ')})`,
        );
        say(`  PostgreSQL    ${postgres.host}:${postgres.port}`);
        say(`  NATS          ${stack.natsUrl} (streams at R3)`);
      } else {
        say(`  Temporal      ${stack.temporalAddress}`);
        say(`  NATS          ${stack.natsUrl}`);
      }
      say(`  logs          ${stack.logDir}`);

      const progress = watchProgress(nc);
      const corrId = `demo-${new Date()
        .toISOString()
        .replace(/[^0-9]/g, '')
        .slice(0, 14)}`;
      say(`publishing demo correlation ${corrId} on NATS (momentum + risk on BTC/USD)`);
      const decision = await publishDemoCorrelation(nc, js, corrId, DEMO_TIMEOUT_MS);
      say(`decision: ${JSON.stringify(decision, null, 2)}`);
      say(`see it in the UI: ${stack.uiUrl}/namespaces/default/workflows/corr-${corrId}`);
      if (values.once) return;

      const rate = Number(values['feed-rate']);
      const feed =
        rate > 0
          ? startDemoFeed(js, { correlationsPerSecond: rate, partialShare: Number(values['partial-share']) })
          : undefined;
      say(feed ? `demo feed: ${rate} correlations/s; press Ctrl-C to stop` : 'running; press Ctrl-C to stop');
      let before = progress.snapshot();
      const ticker = setInterval(() => {
        const now = progress.snapshot();
        say(formatProgress(now, before, PROGRESS_EVERY_MS / 1000));
        before = now;
      }, PROGRESS_EVERY_MS);

      say(`received ${await shutdownSignal()}, stopping`);
      clearInterval(ticker);
      await feed?.stop();
      progress.stop();
    } finally {
      await stopStack();
    }
  },
});
