/**
 * The bridge's durable consumer follows the configuration: a bridge restarted with another ack
 * wait or max ack pending changes the existing consumer, saying what it changed, and refuses one
 * it cannot change in place. Real nats-server and bridge processes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckPolicy, nanos } from 'nats';
import { bridgeProcess, compiledEntryPoint } from '../../src/devstack/local-stack';
import { SIGNALS_STREAM } from '../../src/nats/streams';
import { startE2EStack, type E2EStack } from '../support/e2e-stack';
import { runCommand } from '../support/run-command';

/** The bridge's durable consumer (the default of ORCH_BRIDGE_DURABLE). */
const DURABLE = 'orchestrator-bridge';
let stack: E2EStack;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startE2EStack(
    { version: 'consumer-1', timeout_ms: 5_000 },
    { ORCH_BRIDGE_ACK_WAIT_MS: '30000', ORCH_BRIDGE_MAX_ACK_PENDING: '1000' },
  );
  env = {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    NATS_URL: stack.natsUrl,
    ORCH_POLICY_FILE: join(stack.logDir, 'policy.json'),
  };
  await stack.bridge.stop();
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the bridge's durable consumer", () => {
  it('takes a changed ack wait and max ack pending at the next start, and logs each change', async () => {
    // The consumer as the stack's bridge (ack wait 30 s, 1000 pending) creates it, whatever an
    // earlier test left: the next case replaces it with one of another ack policy.
    await stack.nats.jsm.consumers.delete(SIGNALS_STREAM, DURABLE).catch(() => undefined);
    await stack.bridge.start();
    await stack.bridge.stop();
    expect((await stack.nats.jsm.consumers.info(SIGNALS_STREAM, DURABLE)).config).toMatchObject({
      ack_wait: nanos(30_000),
      max_ack_pending: 1_000,
    });
    const log = join(stack.logDir, 'bridge-changed.log');
    const bridge = bridgeProcess({ ...env, ORCH_BRIDGE_ACK_WAIT_MS: '7000', ORCH_BRIDGE_MAX_ACK_PENDING: '77' }, log);
    await bridge.start();
    try {
      expect((await stack.nats.jsm.consumers.info(SIGNALS_STREAM, DURABLE)).config).toMatchObject({
        ack_wait: nanos(7_000),
        max_ack_pending: 77,
        max_deliver: -1,
      });
    } finally {
      await bridge.stop();
    }
    const changes = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string })
      .filter((l) => l.msg.startsWith(`consumer ${DURABLE}:`));
    expect(changes.map((l) => l.msg)).toEqual([
      `consumer ${DURABLE}: ack_wait was 30000 ms, set to 7000 ms`,
      `consumer ${DURABLE}: max_ack_pending was 1000, set to 77`,
    ]);
  }, 60_000);

  it('refuses a consumer with another ack policy, saying what to do', async () => {
    await stack.nats.jsm.consumers.delete(SIGNALS_STREAM, DURABLE);
    await stack.nats.jsm.consumers.add(SIGNALS_STREAM, { durable_name: DURABLE, ack_policy: AckPolicy.None });
    const run = await runCommand(process.execPath, [compiledEntryPoint('workers/bridge')], {
      env: { ...process.env, ...env } as Record<string, string>,
    });
    expect(run.status).toBe(1);
    expect(run.stderr + run.stdout).toContain(
      `consumer ${DURABLE} on ${SIGNALS_STREAM} acknowledges with ack policy "none", but the bridge acknowledges each message: delete it (nats consumer rm ${SIGNALS_STREAM} ${DURABLE}) or set ORCH_BRIDGE_DURABLE to a new name`,
    );
  }, 60_000);
});
