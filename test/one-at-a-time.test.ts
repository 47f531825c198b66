import { OneAtATime } from '../src/bridge/one-at-a-time';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OneAtATime', () => {
  it('runs tasks with the same key one after another, in order, and others side by side', async () => {
    const queue = new OneAtATime();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`start ${name}`);
      await tick(ms);
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([queue.run('a', task('a1', 30)), queue.run('a', task('a2', 1)), queue.run('b', task('b1', 1))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events.indexOf('start a2')).toBeGreaterThan(events.indexOf('end a1'));
    expect(events.indexOf('end b1')).toBeLessThan(events.indexOf('end a1'));
  });

  it('lets a failed task pass its error to its caller without holding up the next one', async () => {
    const queue = new OneAtATime();
    const failed = queue.run('a', async () => {
      throw new Error('Temporal unavailable');
    });
    const next = queue.run('a', async () => 'signalled');
    await expect(failed).rejects.toThrow('Temporal unavailable');
    await expect(next).resolves.toBe('signalled');
  });

  it('forgets a key once its last task has settled', async () => {
    const queue = new OneAtATime();
    const running = queue.run('a', () => tick(5));
    expect(queue.size).toBe(1);
    await running;
    await tick(0);
    expect(queue.size).toBe(0);
  });
});
