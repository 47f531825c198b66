/** A stream's declaration waits out the request timeouts of a JetStream cluster electing its leaders, for a while. */
import type { JetStreamManager } from 'nats';
import { declareDecisionsStream, reconcileStream } from '../src/nats/streams';
import { loadConfig } from '../src/config';

const timeout = (): Error => Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });
const notFound = (): Error => Object.assign(new Error('stream not found'), { api_error: { err_code: 10059 } });

/**
 * A JetStream manager (a stand-in for this one function's test) whose stream info times out `timeouts` times, then
 * finds no stream.
 */
function jsmTimingOut(timeouts: number): { jsm: JetStreamManager; added: string[] } {
  let calls = 0;
  const added: string[] = [];
  const jsm = {
    streams: {
      info: async () => {
        calls++;
        throw calls <= timeouts ? timeout() : notFound();
      },
      add: async (config: { name: string }) => {
        added.push(config.name);
        return {};
      },
    },
  } as unknown as JetStreamManager;
  return { jsm, added };
}

const decisions = declareDecisionsStream(loadConfig({}).streams);

describe('reconcileStream while the cluster settles', () => {
  it('retries a request that timed out, then declares the stream', async () => {
    const { jsm, added } = jsmTimingOut(2);
    await expect(reconcileStream(jsm, decisions, 10_000)).resolves.toEqual([]);
    expect(added).toEqual([decisions.name]);
  });

  it('gives up with the timeout once the settle time has passed', async () => {
    const { jsm, added } = jsmTimingOut(Number.POSITIVE_INFINITY);
    await expect(reconcileStream(jsm, decisions, 1_200)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(added).toEqual([]);
  });

  it('does not retry any other error', async () => {
    const jsm = {
      streams: {
        info: async () =>
          Promise.reject(Object.assign(new Error('permissions violation'), { code: 'PERMISSIONS_VIOLATION' })),
      },
    } as unknown as JetStreamManager;
    await expect(reconcileStream(jsm, decisions, 10_000)).rejects.toThrow('permissions violation');
  });
});
