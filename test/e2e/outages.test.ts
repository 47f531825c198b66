/**
 * The bridge rides out outages of the servers around it: while Temporal is down messages wait in
 * JetStream; when NATS restarts the bridge reconnects by itself. Nothing is lost, nothing doubles.
 */
import { devServerOf, startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';

let stack: E2EStack;

beforeAll(async () => {
  stack = await startE2EStack({ version: 'outage-1', timeout_ms: 60_000 }, {}, { persistent: true });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('outages', () => {
  it('keeps messages while Temporal is down and decides them once it is back', async () => {
    const corrIds = [1, 2, 3].map((i) => uniqueCorrId(`down${i}`));
    await devServerOf(stack).stop();
    for (const corrId of corrIds) {
      await stack.publish('momentum', momentum(corrId));
      await stack.publish('risk', risk(corrId));
    }
    // The bridge keeps retrying with backoff and stays up.
    await waitFor('the bridge to retry', async () =>
      (await stack.nats.jsm.consumers.info('SIGNALS', 'orchestrator-bridge')).num_redelivered > 0 ? true : undefined,
    );
    expect(stack.bridge.running).toBe(true);
    await devServerOf(stack).start();
    for (const corrId of corrIds) expect(await stack.decisionsFor(corrId)).toHaveLength(1);
  }, 120_000);

  it('reconnects to a restarted nats-server and goes on deciding', async () => {
    await stack.nats.server.restart();
    const corrId = uniqueCorrId('after-nats');
    await waitFor('the test client to reconnect', async () =>
      stack.nats.nc.isClosed()
        ? undefined
        : stack.publish('momentum', momentum(corrId)).then(
            () => true,
            () => undefined,
          ),
    );
    await stack.publish('risk', risk(corrId));
    expect(await stack.decisionsFor(corrId)).toHaveLength(1);
    expect(stack.bridge.running && stack.worker.running).toBe(true);
  }, 120_000);
});
