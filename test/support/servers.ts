/** Real servers for tests: each test file starts what it needs and stops it afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { resolveTool } from '../../src/devstack/tools';
import { SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import {
  type NatsServer,
  startNatsServer,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../src/devstack/processes';

/**
 * Temporal's Java time-skipping test server, installed by scripts/install-tools.sh; without it the
 * SDK downloads its own (which needs internet).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = resolveTool('temporal-test-server');
  const env = await TestWorkflowEnvironment.createTimeSkipping(
    path ? { server: { executable: { type: 'existing-path', path } } } : undefined,
  );
  // The test server knows no custom search attributes until they are added.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.values(SEARCH_ATTRIBUTES).map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
  return env;
}

/** The Temporal CLI dev server (a full server with visibility), started by the SDK. */
export function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  const path = resolveTool('temporal');
  return TestWorkflowEnvironment.createLocal({
    server: {
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      ...(path ? { executable: { type: 'existing-path', path } } : {}),
    },
  });
}

export interface TestNats {
  server: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stop(): Promise<void>;
}

/** A real nats-server with JetStream on a throwaway store, and a client connected to it. */
export async function startTestNats(): Promise<TestNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'orch-nats-'));
  const server = await startNatsServer({ storeDir });
  return connectTestNats(server, server.url, async () => {
    await server.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });
}

/**
 * A test's client on running NATS (`servers`: one URL or a cluster's, comma-separated); `stopServers` runs after it
 * closes.
 */
export async function connectTestNats(
  server: NatsServer,
  servers: string,
  stopServers: () => Promise<void>,
): Promise<TestNats> {
  const nc = await connect({ servers: servers.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  return {
    server,
    nc,
    js: nc.jetstream(),
    jsm: await nc.jetstreamManager(),
    async stop() {
      await nc.close();
      await stopServers();
    },
  };
}

export interface DevServerAndNats {
  temporal: TemporalDevServer;
  nats: TestNats;
  client: Client;
}

/**
 * A headless Temporal dev server, a nats-server and a client on the dev server, started before the
 * calling file's tests and stopped after them. Read the fields inside tests, not at load time.
 */
export function useDevServerAndNats(): DevServerAndNats {
  const servers = {} as DevServerAndNats;
  beforeAll(async () => {
    [servers.temporal, servers.nats] = await Promise.all([startTemporalDevServer({ uiPort: false }), startTestNats()]);
    servers.client = new Client({ connection: await Connection.connect({ address: servers.temporal.address }) });
  });
  afterAll(async () => {
    await servers.client?.connection.close();
    await Promise.all([servers.temporal?.stop(), servers.nats?.stop()]);
  });
  return servers;
}
