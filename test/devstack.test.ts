import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, Events, StorageType, type NatsConnection } from 'nats';
import {
  startNatsServer,
  startTemporalDevServer,
  type NatsServer,
  type TemporalDevServer,
} from '../src/devstack/processes';
import { requireTool, ToolMissingError } from '../src/devstack/tools';

const TIMEOUT_MS = 60_000;

/** `promise`, or a failure naming `what` if it has not settled within `timeoutMs`. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('devstack tools', () => {
  it('tells how to install a missing tool', () => {
    const saved = { dir: process.env.ORCH_TOOLS_DIR, path: process.env.TEMPORAL_TEST_SERVER_PATH };
    const empty = mkdtempSync(path.join(os.tmpdir(), 'orch-tools-'));
    process.env.ORCH_TOOLS_DIR = empty;
    delete process.env.TEMPORAL_TEST_SERVER_PATH;
    try {
      expect(() => requireTool('temporal-test-server')).toThrow(ToolMissingError);
      expect(() => requireTool('temporal-test-server')).toThrow(/npm run tools.*TEMPORAL_TEST_SERVER_PATH/);
    } finally {
      if (saved.dir === undefined) delete process.env.ORCH_TOOLS_DIR;
      else process.env.ORCH_TOOLS_DIR = saved.dir;
      if (saved.path !== undefined) process.env.TEMPORAL_TEST_SERVER_PATH = saved.path;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('nats-server', () => {
  let dir: string;
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-nats-'));
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'keeps JetStream file-stored messages across SIGKILL + restart, and the client reconnects',
    async () => {
      server = await startNatsServer({ storeDir: path.join(dir, 'store'), logFile: path.join(dir, 'nats.log') });
      expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);

      const conn = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
      nc = conn;
      const events: string[] = [];
      // Resolved by the connection's own status event, not by polling the list.
      let onReconnect = (): void => undefined;
      const reconnected = new Promise<void>((resolve) => (onReconnect = resolve));
      void (async () => {
        for await (const status of conn.status()) {
          events.push(status.type);
          if (status.type === Events.Reconnect) onReconnect();
        }
      })();

      const jsm = await conn.jetstreamManager();
      await jsm.streams.add({ name: 'DEVSTACK', subjects: ['devstack.>'], storage: StorageType.File });
      const ack = await conn.jetstream().publish('devstack.hello', 'survives a crash');

      const firstPid = server.pid;
      await server.kill9();
      expect(server.running).toBe(false);
      await server.restart();
      expect(server.pid).not.toBe(firstPid);

      await within(reconnected, 'the client to reconnect');
      expect(events).toContain(Events.Disconnect);

      const stored = await jsm.streams.getMessage('DEVSTACK', { seq: ack.seq });
      expect(stored.string()).toBe('survives a crash');
      expect((await jsm.streams.info('DEVSTACK')).state.messages).toBe(1);
    },
    TIMEOUT_MS,
  );
});

describe('temporal dev server', () => {
  let dir: string;
  let server: TemporalDevServer | undefined;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-temporal-'));
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'starts headless on a SQLite file, answers cluster health, and stops',
    async () => {
      const dbFile = path.join(dir, 'temporal.db');
      server = await startTemporalDevServer({ uiPort: false, dbFile, logFile: path.join(dir, 'temporal.log') });
      expect(server.uiUrl).toBeUndefined();
      expect(existsSync(dbFile)).toBe(true);

      const { stdout } = await promisify(execFile)(requireTool('temporal'), [
        'operator',
        'cluster',
        'health',
        '--address',
        server.address,
      ]);
      expect(stdout).toContain('SERVING');

      const pid = server.pid;
      expect(pid).toBeDefined();
      await server.stop();
      expect(server.running).toBe(false);
      expect(isAlive(pid as number)).toBe(false);
      await expect(server.exited).resolves.toBe(0);
    },
    TIMEOUT_MS,
  );
});
