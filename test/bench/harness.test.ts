/** The harness's pure parts: /proc parsing, the correlation book, partial spreading, capacity judging. */
import type { JetStreamClient } from 'nats';
import { agentArrivals, isPartialCorrelation, Pacer, signalLoad, signalsPerCorrelation } from '../../src/bench/load';
import { dbTimeBetween, parseDbTime, summarizeDbTime } from '../../src/bench/engine-metrics';
import { correlationNumber, CorrelationBook } from '../../src/bench/observer';
import { toolVersions } from '../../src/bench/machine';
import { summarizeCapacity } from '../../src/bench/report';
import {
  MACHINE,
  parseCpuTicks,
  parseMachineTicks,
  parseRssMb,
  parseUsedMemoryMb,
  ResourceSampler,
} from '../../src/bench/resources';
import { type CapacityStep, judgeStep } from '../../src/bench/run';

/** Resolves once `check` holds, looking every millisecond; fails after `timeoutMs`, naming `what`. */
async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('bench harness parts', () => {
  it('reads CPU ticks and RSS from /proc text, also when the command name has spaces and parentheses', () => {
    const stat =
      '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 9019 0 0 0 1234 567 0 0 20 0 11 0 3333 1150000000 30000 18446744073709551615';
    expect(parseCpuTicks(stat)).toBe(1234 + 567);
    expect(parseRssMb('Name:\tnode\nVmPeak:\t 999 kB\nVmRSS:\t  204800 kB\nThreads:\t11\n')).toBe(200);
    expect(parseRssMb('Name:\tkthreadd\n')).toBeUndefined();
  });

  it('reads the whole machine: busy and total CPU ticks, cores, memory in use', () => {
    const stat =
      'cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\ncpu1 50 3 25 400 10 2 1 5 4 0\nintr 12345\n';
    expect(parseMachineTicks(stat)).toEqual({
      busy: 100 + 5 + 50 + 3 + 2 + 10,
      total: 100 + 5 + 50 + 800 + 20 + 3 + 2 + 10,
      cores: 2,
    });
    expect(
      parseUsedMemoryMb('MemTotal:       24684544 kB\nMemFree:        1000 kB\nMemAvailable:   24160256 kB\n'),
    ).toBe(512);
  });

  it('samples a live process (this one) and a missing one as null', async () => {
    const sampler = new ResourceSampler({ self: process.pid, gone: 2 ** 22 + 12345 });
    const first = sampler.sample();
    expect(first.self.rssMb).toBeGreaterThan(1);
    expect(first.self.cpuPct).toBeNull(); // no previous sample yet
    expect(first.gone).toEqual({ cpuPct: null, rssMb: null });
    // A sleep kept on purpose: CPU use is measured over elapsed time, and the machine's counters in
    // /proc/stat move in 10 ms ticks, so time has to pass between the two samples.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = sampler.sample();
    expect(second.self.cpuPct).toEqual(expect.any(Number));
    expect(second[MACHINE].cpuPct).toEqual(expect.any(Number));
    expect(second[MACHINE].rssMb).toBeGreaterThan(0);
  });

  it('spreads partial correlations evenly at the given share', () => {
    const partial = Array.from({ length: 1000 }, (_, n) => isPartialCorrelation(n, 0.1));
    expect(partial.filter(Boolean)).toHaveLength(100);
    expect(
      partial
        .slice(0, 20)
        .map((p, n) => (p ? n : -1))
        .filter((n) => n >= 0),
    ).toEqual([9, 19]);
    expect(Array.from({ length: 100 }, (_, n) => isPartialCorrelation(n, 0)).some(Boolean)).toBe(false);
    expect(signalsPerCorrelation(2, 0.1)).toBeCloseTo(1.9);
  });

  it('books decisions once each, counting duplicates and strangers', () => {
    const book = new CorrelationBook();
    book.sent(0, 1000, false);
    book.sent(1, 1010, true);
    book.sent(0, 1100, false); // a second signal of correlation 0: the first one starts its latency
    book.decision(0, 1250);
    book.decision(0, 1300); // a duplicate
    book.decision(0, 1400);
    book.decision(7, 1500); // never published
    expect(book.published).toBe(2);
    expect(book.decided).toBe(1);
    expect(book.undecided).toBe(1);
    expect(book.duplicatedCorrelations).toBe(1);
    expect(book.duplicateMessages).toBe(2);
    expect(book.unexpected).toBe(1);
    expect(book.latencyOf(0)).toBe(250);
    expect(book.latencyOf(1)).toBeUndefined();
    book.decision(1, 6010, 1);
    expect(book.partialLatencies).toEqual([5000]);
    expect(book.completeLatencies).toEqual([250]);
    expect(book.completeLatenciesFromLast).toEqual([150]);
    expect(book.takeWindow()).toEqual({ decided: 2, latencies: [250] });
    expect(book.takeWindow()).toEqual({ decided: 0, latencies: [] });
    expect(correlationNumber('bench-abc-42', 'bench-abc-')).toBe(42);
    expect(correlationNumber('bench-abd-42', 'bench-abc-')).toBeUndefined();
    expect(correlationNumber('bench-abc-4x', 'bench-abc-')).toBeUndefined();
  });

  it('judges a capacity step: p95 within the bound, undecided correlations count as too slow', () => {
    const fast = Array.from({ length: 100 }, () => 100);
    expect(judgeStep(fast, 1, 1000)).toEqual({ p95Ms: 100, undecidedAtCheck: 0, sustainable: true });
    const slowTail = [...Array.from({ length: 90 }, () => 100), ...Array.from({ length: 10 }, () => 1500)];
    expect(judgeStep(slowTail, 1, 1000)).toMatchObject({ p95Ms: 1500, sustainable: false });
    const behind = [...Array.from({ length: 90 }, () => 100), ...Array.from({ length: 10 }, () => undefined)];
    expect(judgeStep(behind, 1, 1000)).toMatchObject({
      p95Ms: null,
      undecidedAtCheck: 10,
      sustainable: false,
      reason: expect.stringContaining('fell behind'),
    });
    expect(judgeStep(fast, 0.8, 1000)).toMatchObject({ sustainable: false, reason: expect.stringContaining('80 %') });
  });

  it('reports the highest sustainable step before the first failure', () => {
    const step = (index: number, rate: number, sustainable: boolean): CapacityStep => ({
      index,
      ratePerMinute: rate,
      correlationsPerSecond: rate / 60 / 1.9,
      startS: index * 60,
      endS: index * 60 + 60,
      correlations: 100,
      p95Ms: 100,
      undecidedAtCheck: 0,
      keptUp: 1,
      sustainable,
      ...(sustainable ? {} : { reason: 'too slow' }),
    });
    const summary = summarizeCapacity([
      step(0, 5000, true),
      step(1, 7500, true),
      step(2, 11250, false),
      step(3, 16875, true),
    ]);
    expect(summary).toMatchObject({
      sustainableRatePerMinute: 7500,
      reachedBound: true,
      stoppedBy: 'step 3: too slow',
    });
    expect(summarizeCapacity([step(0, 5000, false)]).sustainableRatePerMinute).toBeNull();
    expect(summarizeCapacity([step(0, 5000, true)])).toMatchObject({
      sustainableRatePerMinute: 5000,
      reachedBound: false,
    });
  });

  it('reads the tools versions from the install log, the last line of each winning', () => {
    const log = [
      '2026-11-22T02:54:42Z nats-server v2.12.0: built with go install in 1.7s',
      '2026-11-22T02:54:58Z temporal CLI v1.5.1: built with go install in 16s',
      '2026-11-22T02:55:06Z temporal-test-server 1.38.0: fetched with mvn in 7.1s',
      '2026-11-22T03:13:35Z nats-server v2.12.1: cached',
      'garbage',
    ].join('\n');
    expect(toolVersions(log)).toEqual({
      'nats-server': 'v2.12.1',
      'temporal CLI': 'v1.5.1',
      'temporal-test-server': '1.38.0',
    });
  });

  it('paces with a bounded number of sends in flight: a slow server shows as backlog', async () => {
    const pending: Array<() => void> = [];
    const pacer = new Pacer(
      600_000,
      1,
      3,
      () => [0],
      () => new Promise<void>((resolve) => pending.push(resolve)),
    );
    pacer.start();
    // 10 units a millisecond fall due at once: wait until more are due than may be in flight.
    await until('more units due than the 3 that may be in flight', () => pacer.stats().offered > 3);
    expect(pacer.stats()).toMatchObject({ sent: 3, inFlight: 3 });
    expect(pending).toHaveLength(3);
    const stopped = pacer.stop();
    const release = setInterval(() => pending.splice(0).forEach((resolve) => resolve()), 5);
    await stopped;
    clearInterval(release);
    const stats = pacer.stats();
    expect(stats.inFlight).toBe(0);
    expect(stats.maxBacklog).toBeGreaterThan(0);
    expect(stats.errors).toBe(0);
  });

  it('counts failed sends as errors and keeps going', async () => {
    let calls = 0;
    const pacer = new Pacer(
      60_000,
      1,
      10,
      () => [0],
      () => (++calls % 2 === 0 ? Promise.reject(new Error('no responders')) : Promise.resolve()),
    );
    pacer.start();
    // Two of the first four sends fail: the pacer has kept going past each.
    await until('four sends', () => calls >= 4);
    await pacer.stop();
    // Every second send failed: as many errors as that, and each send counted once.
    expect(pacer.stats()).toMatchObject({ sent: calls, errors: Math.floor(calls / 2), inFlight: 0 });
    expect(pacer.errorMessages()[0]).toBe('no responders');
  });

  it('sends each unit of a correlation at its planned offset, and finishes the correlations it started when stopped', async () => {
    const sends: Array<{ n: number; index: number; at: number }> = [];
    const t0 = performance.now();
    // 3 units a correlation at 1,800 units a minute: a correlation every 100 ms, its units at 0, 150 and 60 ms.
    const pacer = new Pacer(
      1_800,
      3,
      10,
      () => [0, 150, 60],
      async (n, index) => void sends.push({ n, index, at: performance.now() - t0 }),
    );
    pacer.start();
    // Stopped as soon as the second correlation has started (its first unit sent), 100 ms before a third.
    await until('the second correlation to start', () => sends.some((s) => s.n === 1));
    await pacer.stop();
    // Both correlations started, and no third, got all three units, in the order of their offsets.
    expect(sends).toHaveLength(6);
    for (const n of [0, 1]) {
      const own = sends.filter((s) => s.n === n);
      expect(own.map((s) => s.index)).toEqual([0, 2, 1]);
      // Elapsed time is what is measured here: the last unit 150 ms after the first.
      expect(own[2].at - own[0].at).toBeGreaterThanOrEqual(145);
    }
    expect(pacer.stats().sent).toBe(sends.length);
  });

  it('plans arrivals: the first agent at once, the others within the spread, one agent fewer for a partial correlation', () => {
    const draws = [0.5, 1, 0.25];
    const plan = agentArrivals(3, 0.5, 2_000, () => draws.shift() ?? 0);
    expect(plan(0)).toEqual([0, 1_000, 2_000]);
    expect(plan(1)).toEqual([0, 500]); // partial: the last agent never reports
    expect(agentArrivals(2, 0, 0)(7)).toEqual([0, 0]);
  });

  it('publishes each agent of a correlation, leaving the last agent out of partial ones', async () => {
    const published: Array<{ subject: string; corrId: string; agent: string; instrument: unknown }> = [];
    const js = {
      publish: async (subject: string, data: string) => {
        const signal = JSON.parse(data) as {
          corr_id: string;
          agent_name: string;
          source_signal?: { instrument?: unknown };
        };
        published.push({
          subject,
          corrId: signal.corr_id,
          agent: signal.agent_name,
          instrument: signal.source_signal?.instrument,
        });
        return { stream: 'SIGNALS', seq: published.length, duplicate: false };
      },
    } as unknown as JetStreamClient;
    const book = new CorrelationBook();
    const { plan, send } = signalLoad({
      js,
      book,
      prefix: 'bench-t-',
      agents: ['momentum', 'risk', 'news'],
      partialShare: 0.5,
      spreadMs: 0,
    });
    for (const n of [0, 1]) for (let index = 0; index < plan(n).length; index++) await send(n, index);
    expect(published.map((p) => `${p.corrId}:${p.agent}`)).toEqual([
      'bench-t-0:momentum',
      'bench-t-0:risk',
      'bench-t-0:news', // complete
      'bench-t-1:momentum',
      'bench-t-1:risk', // partial: news never reports
    ]);
    expect(published.map((p) => p.subject)).toEqual(published.map((p) => `signals.enriched.${p.agent}`));
    // One event, one instrument: every agent of a correlation talks about the same one.
    expect(new Set(published.slice(0, 3).map((p) => p.instrument)).size).toBe(1);
    expect(book.published).toBe(2);
    expect(book.isPartial(0)).toBe(false);
    expect(book.isPartial(1)).toBe(true);
  });

  it("reads the engine's database time from its /metrics, per store and operation, and per correlation", () => {
    const scrape = (create: number, visibility: number) =>
      parseDbTime(
        [
          '# TYPE persistence_latency histogram',
          `persistence_latency_bucket{operation="CreateWorkflowExecution",le="0.01"} ${create}`,
          `persistence_latency_sum{namespace="default",operation="CreateWorkflowExecution",service_name="history"} ${create * 0.002}`,
          `persistence_latency_count{namespace="default",operation="CreateWorkflowExecution",service_name="history"} ${create}`,
          `persistence_latency_sum{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 0.5`,
          `persistence_latency_count{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 100`,
          `visibility_persistence_latency_sum{operation="RecordWorkflowExecutionStarted"} ${visibility * 0.001}`,
          `visibility_persistence_latency_count{operation="RecordWorkflowExecutionStarted"} ${visibility}`,
        ].join('\n'),
      );
    const phase = dbTimeBetween(scrape(10, 10), scrape(110, 60));
    expect(phase).toEqual({
      persistenceSeconds: expect.closeTo(0.2, 9),
      persistenceRequests: 100,
      visibilitySeconds: expect.closeTo(0.05, 9),
      visibilityRequests: 50,
      byOperation: {
        CreateWorkflowExecution: { seconds: expect.closeTo(0.2, 9), count: 100 },
        RecordWorkflowExecutionStarted: { seconds: expect.closeTo(0.05, 9), count: 50 },
      },
    });
    expect(summarizeDbTime(phase, 100)).toEqual({
      dbMsPerCorrelation: 2.5,
      persistenceMsPerCorrelation: 2,
      visibilityMsPerCorrelation: 0.5,
      requestsPerCorrelation: 1.5,
      topOperations: [
        { operation: 'CreateWorkflowExecution', msPerCorrelation: 2, perCorrelation: 1 },
        { operation: 'RecordWorkflowExecutionStarted', msPerCorrelation: 0.5, perCorrelation: 0.5 },
      ],
    });
    expect(summarizeDbTime(phase, 0)).toBeNull();
  });
});
