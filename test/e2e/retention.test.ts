/**
 * Nothing old starts a new actor, on real servers: the bridge refuses a SIGNALS stream that would
 * keep a message longer than the Temporal namespace keeps its correlation's run (the dev server's
 * retention is 24 h), sends a message older than that horizon to the DLQ as `expired`, and brings
 * the streams it owns to their configured limits at start, logging each change.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nanos } from 'nats';
import { bridgeProcess, compiledEntryPoint } from '../../src/devstack/local-stack';
import { DLQ_STREAM, SIGNALS_STREAM } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';
import { runCommand } from '../support/run-command';

const HOUR_MS = 3_600_000;
let stack: E2EStack;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startE2EStack({ version: 'retention-1', timeout_ms: 2_000 });
  env = {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    NATS_URL: stack.natsUrl,
    ORCH_POLICY_FILE: join(stack.logDir, 'policy.json'),
  };
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe('nothing old starts a new actor', () => {
  it("refuses to start when SIGNALS would keep a message longer than the namespace's retention, saying what to set", async () => {
    const run = await runCommand(process.execPath, [compiledEntryPoint('workers/bridge')], {
      env: { ...process.env, ...env, ORCH_SIGNALS_MAX_AGE_MS: String(24 * HOUR_MS) } as Record<string, string>,
    });
    expect(run.status).toBe(1);
    expect(run.stderr + run.stdout).toContain(
      "SIGNALS keeps messages 24 h (ORCH_SIGNALS_MAX_AGE_MS), but Temporal forgets a closed correlation after the namespace's retention of 24 h: " +
        'a message re-read after that would start its correlation again and publish a second decision. ' +
        "Set ORCH_SIGNALS_MAX_AGE_MS to at most 82800000 (the retention minus 60 minutes), or raise the namespace's retention",
    );
  }, 60_000);

  it('sends a message made longer ago than that horizon to the DLQ as expired, and starts nothing', async () => {
    const corrId = uniqueCorrId('expired');
    const twoDaysAgo = new Date(Date.now() - 48 * HOUR_MS).toISOString();
    const seq = await stack.publish('momentum', { ...momentum(corrId), enriched_at: twoDaysAgo });
    const entry = await waitFor('the DLQ entry', async () =>
      (await stack.dlqEntries()).find((e) => e.header.get('Orch-Original-Seq') === String(seq)),
    );
    expect(entry.header.get('Orch-Dlq-Reason')).toBe('expired');
    expect(entry.header.get('Orch-Dlq-Detail')).toBe(
      `enriched_at ${twoDaysAgo}, more than 23 h ago: its correlation's run may be forgotten by Temporal, and a new one would decide it twice`,
    );
    await expect(stack.client.workflow.getHandle(workflowIdFor(corrId)).describe()).rejects.toThrow(/not found/i);
  });

  it('decides a correlation whose messages are recent as before', async () => {
    const corrId = uniqueCorrId('fresh');
    await Promise.all([
      stack.publish('momentum', { ...momentum(corrId), enriched_at: new Date().toISOString() }),
      stack.publish('risk', risk(corrId)),
    ]);
    expect(await stack.decisionsFor(corrId)).toHaveLength(1);
  });
});

describe('the streams the bridge owns', () => {
  it('brings SIGNALS and SIGNALS_DLQ to the configured age and size at start, and logs each change', async () => {
    await stack.bridge.stop();
    // As every earlier version left them: no age or size limit.
    for (const name of [SIGNALS_STREAM, DLQ_STREAM]) {
      const { config } = await stack.nats.jsm.streams.info(name);
      await stack.nats.jsm.streams.update(name, { ...config, max_age: 0, max_bytes: -1 });
    }
    const log = join(stack.logDir, 'bridge-streams.log');
    const bridge = bridgeProcess(
      {
        ...env,
        ORCH_SIGNALS_MAX_AGE_MS: String(6 * HOUR_MS),
        ORCH_SIGNALS_MAX_BYTES: '50000000',
        ORCH_DLQ_MAX_AGE_MS: String(48 * HOUR_MS),
      },
      log,
    );
    await bridge.start();
    try {
      expect((await stack.nats.jsm.streams.info(SIGNALS_STREAM)).config).toMatchObject({
        max_age: nanos(6 * HOUR_MS),
        max_bytes: 50_000_000,
      });
      expect((await stack.nats.jsm.streams.info(DLQ_STREAM)).config).toMatchObject({
        max_age: nanos(48 * HOUR_MS),
        max_bytes: 1024 ** 3 / 4,
      });
    } finally {
      await bridge.stop();
      await stack.bridge.start();
    }
    const changes = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { msg: string }).msg)
      .filter((msg) => msg.startsWith('stream '));
    expect(changes).toEqual([
      `stream SIGNALS: max_age was 0 (no limit), set to ${6 * HOUR_MS} ms`,
      'stream SIGNALS: max_bytes was -1 (no limit), set to 50000000 bytes',
      `stream SIGNALS_DLQ: max_age was 0 (no limit), set to ${48 * HOUR_MS} ms`,
      `stream SIGNALS_DLQ: max_bytes was -1 (no limit), set to ${1024 ** 3 / 4} bytes`,
    ]);
  }, 60_000);
});
