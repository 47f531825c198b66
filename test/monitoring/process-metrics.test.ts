/**
 * What OrchestratorMetrics adds for dashboards and alerts: Node.js's process metrics on each
 * instance's registry, the DLQ reasons from zero, and the SIGNALS consumer's backlog read from a real
 * nats-server when scraped (cached briefly, absent while NATS cannot answer).
 */
import { AckPolicy } from 'nats';
import { SIGNAL_SUBJECTS, SIGNALS_STREAM, signalSubject } from '../../src/nats/streams';
import { cachedFor, signalsConsumerBacklog } from '../../src/observability/consumer-backlog';
import { OrchestratorMetrics } from '../../src/observability/metrics';
import { waitFor } from '../support/e2e-stack';
import { startTestNats, type TestNats } from '../support/servers';

describe('process metrics', () => {
  it('are on every instance, so a second one in the same process registers its own', async () => {
    const first = new OrchestratorMetrics();
    const second = new OrchestratorMetrics();
    for (const metrics of [first, second]) {
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/^process_cpu_seconds_total \d/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    }
  });
});

describe('trackBridge', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(() => nats?.stop());

  it('exports every DLQ reason from 0, and the consumer backlog as JetStream counts it', async () => {
    const durable = 'backlog-test';
    await nats.jsm.streams.add({ name: SIGNALS_STREAM, subjects: [SIGNAL_SUBJECTS] });
    await nats.jsm.consumers.add(SIGNALS_STREAM, { durable_name: durable, ack_policy: AckPolicy.Explicit });
    for (let i = 0; i < 3; i++)
      await nats.js.publish(signalSubject('momentum'), new TextEncoder().encode(`{"n":${i}}`));
    const metrics = new OrchestratorMetrics();
    expect(await metrics.registry.metrics()).not.toContain('orchestrator_signals_consumer_pending_messages{');

    // A short request timeout: with NATS down below, a read fails after 1 s instead of 5.
    metrics.trackBridge(signalsConsumerBacklog(await nats.nc.jetstreamManager({ timeout: 1_000 }), durable, 100));
    const text = await metrics.registry.metrics();
    expect(text).toContain('orchestrator_signals_dlq_total{reason="schema_violation"} 0');
    expect(text.match(/^orchestrator_signals_dlq_total\{reason="\w+"\} 0$/gm)).toHaveLength(8);
    expect(text).toContain('orchestrator_signals_consumer_pending_messages{consumer="backlog-test"} 3');
    expect(text).toContain('orchestrator_signals_consumer_ack_pending_messages{consumer="backlog-test"} 0');

    // One message taken and not acknowledged: 2 pending, 1 awaiting its ack, once the cache expires.
    const consumer = await nats.js.consumers.get(SIGNALS_STREAM, durable);
    expect(await consumer.next()).not.toBeNull();
    await waitFor('the backlog to be read again', async () => {
      const now = await metrics.registry.metrics();
      return now.includes('orchestrator_signals_consumer_pending_messages{consumer="backlog-test"} 2')
        ? now
        : undefined;
    }).then((now) =>
      expect(now).toContain('orchestrator_signals_consumer_ack_pending_messages{consumer="backlog-test"} 1'),
    );

    // NATS gone: no backlog sample rather than a stale one, and the rest of /metrics still answers.
    await nats.server.stop();
    const without = await waitFor('the backlog to go', async () => {
      const now = await metrics.registry.metrics();
      return now.includes('orchestrator_signals_consumer_pending_messages{') ? undefined : now;
    });
    expect(without).not.toContain('orchestrator_signals_consumer_ack_pending_messages{');
    expect(without).toContain('orchestrator_signals_dlq_total{reason="not_json"} 0');
    await nats.server.start();
  });
});

describe('cachedFor', () => {
  it('reads once per period however often asked, sharing a read in flight, failures included', async () => {
    let clock = 0;
    let reads = 0;
    const read = cachedFor(
      1_000,
      async () => {
        reads++;
        if (reads === 2) throw new Error('unreachable');
        return reads;
      },
      () => clock,
    );
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    clock = 999;
    expect(await read()).toBe(1);
    clock = 1_000;
    await expect(read()).rejects.toThrow('unreachable');
    clock = 1_500;
    await expect(read()).rejects.toThrow('unreachable');
    clock = 2_000;
    expect(await read()).toBe(3);
    expect(reads).toBe(3);
  });
});
