/**
 * The ceilings' worker: polls its own task queue for the two ceiling workflows and reports each completed
 * workflow on NATS (core, batched every 50 ms) so the bench can time it without asking Temporal.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type InjectedSinks } from '@temporalio/worker';
import { connect } from 'nats';
import { ConfigError, loadConfig } from '../config';
import { natsConnectionOptions } from '../nats/connection';
import { runMain } from '../process/run-main';
import type { CeilingActivities, CeilingSinks } from './ceiling-workflow';

const FLUSH_EVERY_MS = 50;

const log = (msg: string, extra: Record<string, unknown> = {}): void =>
  void process.stdout.write(`${JSON.stringify({ time: Date.now(), msg, ...extra })}\n`);

runMain({
  usage: `
Usage: node dist/src/bench/ceiling-worker.js

The bench's ceiling worker (started by \`npm run bench -- --ceiling\`): runs the minimal
ceilingWorkflow and ceilingFanInWorkflow on BENCH_CEILING_TASK_QUEUE and publishes completions on
BENCH_CEILING_SUBJECT.
Stops on SIGINT or SIGTERM.`,
  async main() {
    const taskQueue = process.env.BENCH_CEILING_TASK_QUEUE;
    const subject = process.env.BENCH_CEILING_SUBJECT;
    if (!taskQueue || !subject) throw new ConfigError('BENCH_CEILING_TASK_QUEUE and BENCH_CEILING_SUBJECT must be set');
    const config = loadConfig();
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const nc = await connect({ ...natsConnectionOptions(config.nats), name: 'bench-ceiling-worker' });
    const connection = await NativeConnection.connect(config.temporal.connectionOptions);

    let done: Array<[string, number]> = [];
    const flush = (): void => {
      if (done.length === 0) return;
      nc.publish(subject, JSON.stringify({ done }));
      done = [];
    };
    const timer = setInterval(flush, FLUSH_EVERY_MS);
    const activities: CeilingActivities = { noop: async () => undefined };
    const sinks: InjectedSinks<CeilingSinks> = {
      bench: {
        completed: {
          fn: (info) => void done.push([info.workflowId, performance.timeOrigin + performance.now()]),
          callDuringReplay: false,
        },
      },
    };
    try {
      const worker = await Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue,
        workflowsPath: require.resolve('./ceiling-workflow'),
        activities,
        // The bench's client encrypts when the target's settings turn payload encryption on.
        ...(config.temporal.dataConverter ? { dataConverter: config.temporal.dataConverter } : {}),
        sinks,
      });
      log('ceiling worker polling', { task_queue: taskQueue });
      await worker.run();
      log('ceiling worker stopped');
    } finally {
      clearInterval(timer);
      flush();
      await nc.drain();
      await connection.close();
    }
  },
});
