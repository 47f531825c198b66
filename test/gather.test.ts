/**
 * The bridge's batching, as a unit: which items go to Temporal together, when, and in which order.
 * Fake timers stand in for the window, so every case is exact.
 */
import { Gatherer } from '../src/bridge/gather';
import { ReportedAgents } from '../src/bridge/reported-agents';

interface Call {
  key: string;
  batch: string[];
  settle(error?: Error): void;
}

/** A gatherer whose hand-overs wait until the test settles them; items are `<key>:<agent>`. */
function gatherer(windowMs: number, expected: string[] = ['momentum', 'risk']) {
  const calls: Call[] = [];
  const g = new Gatherer<string>({
    windowMs,
    isComplete: (_key, batch) => expected.every((agent) => batch.some((item) => item.endsWith(`:${agent}`))),
    handOver: (key, batch) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ key, batch, settle: (error) => (error ? reject(error) : resolve()) });
      }),
  });
  return { g, calls };
}

/** Lets promise callbacks run (hand-overs settle through them). */
const flushPromises = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('Gatherer', () => {
  it('hands the items of one key that arrive within the window over together, in arrival order', async () => {
    const { g, calls } = gatherer(50, ['momentum', 'risk', 'sentiment']);
    void g.add('c1', 'c1:risk');
    jest.advanceTimersByTime(20);
    void g.add('c1', 'c1:momentum');
    jest.advanceTimersByTime(29);
    expect(calls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(calls.map((c) => c.batch)).toEqual([['c1:risk', 'c1:momentum']]);
  });

  it('hands a batch over at once when it holds every expected agent', () => {
    const { g, calls } = gatherer(50);
    void g.add('c1', 'c1:momentum');
    expect(calls).toEqual([]);
    void g.add('c1', 'c1:risk');
    expect(calls.map((c) => [c.key, c.batch])).toEqual([['c1', ['c1:momentum', 'c1:risk']]]);
  });

  it('resolves each item once its batch was handed over', async () => {
    const { g, calls } = gatherer(50);
    const done: string[] = [];
    void g.add('c1', 'c1:momentum').then(() => done.push('momentum'));
    void g.add('c1', 'c1:risk').then(() => done.push('risk'));
    await flushPromises();
    expect(done).toEqual([]);
    calls[0].settle();
    await flushPromises();
    expect(done).toEqual(['momentum', 'risk']);
  });

  it('keeps keys apart: one key in flight does not hold another', () => {
    const { g, calls } = gatherer(50);
    void g.add('c1', 'c1:momentum');
    void g.add('c1', 'c1:risk');
    void g.add('c2', 'c2:momentum');
    void g.add('c2', 'c2:risk');
    expect(calls.map((c) => c.key)).toEqual(['c1', 'c2']);
  });

  it('sends what arrives while a batch is in flight as the next batch, right after it settles', async () => {
    const { g, calls } = gatherer(50, ['momentum', 'risk', 'sentiment']);
    void g.add('c1', 'c1:momentum');
    jest.advanceTimersByTime(50);
    void g.add('c1', 'c1:risk');
    void g.add('c1', 'c1:sentiment');
    jest.advanceTimersByTime(500);
    // Never two calls for one key at once: the second batch waits for the first.
    expect(calls.map((c) => c.batch)).toEqual([['c1:momentum']]);
    calls[0].settle();
    await flushPromises();
    expect(calls.map((c) => c.batch)).toEqual([['c1:momentum'], ['c1:risk', 'c1:sentiment']]);
  });

  it('with a window of 0 hands the first item over at once and batches only what queues behind it', async () => {
    const { g, calls } = gatherer(0);
    void g.add('c1', 'c1:momentum');
    expect(calls.map((c) => c.batch)).toEqual([['c1:momentum']]);
    void g.add('c1', 'c1:momentum-again');
    void g.add('c1', 'c1:risk');
    calls[0].settle();
    await flushPromises();
    expect(calls.map((c) => c.batch)).toEqual([['c1:momentum'], ['c1:momentum-again', 'c1:risk']]);
  });

  it('rejects the items of a failed hand-over and still hands the next batch over', async () => {
    const { g, calls } = gatherer(0);
    const first = g.add('c1', 'c1:momentum');
    const second = g.add('c1', 'c1:risk');
    calls[0].settle(new Error('Temporal is down'));
    await expect(first).rejects.toThrow('Temporal is down');
    await flushPromises();
    expect(calls.map((c) => c.batch)).toEqual([['c1:momentum'], ['c1:risk']]);
    calls[1].settle();
    await expect(second).resolves.toBeUndefined();
  });

  it('rejects the items when the hand-over throws before it returns a promise', async () => {
    const g = new Gatherer<string>({
      windowMs: 0,
      isComplete: () => false,
      handOver: () => {
        throw new Error('bug');
      },
    });
    await expect(g.add('c1', 'x')).rejects.toThrow('bug');
    expect(g.size).toBe(0);
  });

  it('flushAll hands every open batch over without waiting out the window', () => {
    const { g, calls } = gatherer(10_000);
    void g.add('c1', 'c1:momentum');
    void g.add('c2', 'c2:risk');
    g.flushAll();
    expect(calls.map((c) => c.batch)).toEqual([['c1:momentum'], ['c2:risk']]);
  });

  it('forgets a key once nothing waits or is in flight for it', async () => {
    const { g, calls } = gatherer(50);
    void g.add('c1', 'c1:momentum');
    expect(g.size).toBe(1);
    jest.advanceTimersByTime(50);
    calls[0].settle();
    await flushPromises();
    expect(g.size).toBe(0);
  });
});

describe('ReportedAgents', () => {
  it('is complete when the batch alone holds every expected agent', () => {
    expect(new ReportedAgents(['momentum', 'risk']).completes('c1', ['risk', 'momentum'])).toBe(true);
    expect(new ReportedAgents(['momentum', 'risk']).completes('c1', ['risk'])).toBe(false);
  });

  it('counts the agents already handed over for the correlation', () => {
    const reported = new ReportedAgents(['momentum', 'risk']);
    reported.record('c1', ['momentum']);
    expect(reported.completes('c1', ['risk'])).toBe(true);
    expect(reported.completes('c2', ['risk'])).toBe(false);
  });

  it('keeps no record of a correlation whose expected agents are all in', () => {
    const reported = new ReportedAgents(['momentum', 'risk']);
    reported.record('c1', ['momentum']);
    reported.record('c1', ['risk']);
    expect(reported.size).toBe(0);
  });

  it('forgets the oldest correlation past its bound', () => {
    const reported = new ReportedAgents(['momentum', 'risk'], 2);
    reported.record('c1', ['momentum']);
    reported.record('c2', ['momentum']);
    reported.record('c3', ['momentum']);
    expect(reported.size).toBe(2);
    expect(reported.completes('c1', ['risk'])).toBe(false);
    expect(reported.completes('c3', ['risk'])).toBe(true);
  });
});
