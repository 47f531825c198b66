/**
 * The Temporal connection from configuration: Temporal's own environment configuration
 * (@temporalio/envconfig: TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE / temporal.toml) gives
 * the worker, the bridge and the `orch` CLI their API key and TLS through one path, loadConfig; a
 * bad TLS file stops them at start-up naming the setting. Then TLS for real: the Temporal dev server
 * has no TLS options, so a TLS-terminating proxy (test/support/secure-nats.ts) stands in front of it
 * and the real worker process, a client and the CLI connect through it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection, TransportError } from '@temporalio/worker';
import { openTemporal } from '../../src/client/commands/common';
import { connectTemporalClient } from '../../src/temporal/client';
import { ConfigError, loadConfig } from '../../src/config';
import { runDemoCorrelation } from '../support/demo-correlation';
import { compiledEntryPoint, workerProcess } from '../../src/devstack/local-stack';
import { type ManagedProcess, startTemporalDevServer, type TemporalDevServer } from '../../src/devstack/processes';
import { storedDecisions } from '../support/decisions';
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { generateTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../support/secure-nats';
import { startTestNats, type TestNats } from '../support/servers';
import { uniqueCorrId } from '../support/signals';
import { errorOf } from '../support/errors';

let pki: TestPki;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-temporal-tls-'));
  pki = generateTestPki(dir);
  // An empty profile, so that neither the developer's temporal.toml nor a missing file (an error)
  // gets in the way. (envconfig 1.24 fails on a file with no profile at all.)
  writeFileSync(join(dir, 'none.toml'), '[profile.default]\n');
  writeFileSync(join(dir, 'not-pem.txt'), 'this is not a certificate\n');
});

/** Only the settings given: nothing from the developer's own environment or temporal.toml. */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_') && !name.startsWith('NATS_')),
  );
  return { ...clean, TEMPORAL_CONFIG_FILE: join(dir, 'none.toml'), ...env };
}

/** The `orch` CLI, synchronously: only for runs that never connect (the TLS proxy lives in this process). */
function runCliSync(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [compiledEntryPoint('client/cli'), ...args], {
    env: cliEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
  });
}

function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [compiledEntryPoint('client/cli'), ...args],
      { env: cliEnv(env), encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ status: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('Temporal connection settings', () => {
  const noToml = (): string => join(dir, 'none.toml');

  it('TEMPORAL_API_KEY sets the API key and turns TLS on (system CAs)', () => {
    const config = loadConfig({
      TEMPORAL_CONFIG_FILE: noToml(),
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'orch.acct',
      TEMPORAL_API_KEY: 'key-abc',
    });
    expect(config.temporal).toEqual({
      namespace: 'orch.acct',
      connectionOptions: expect.objectContaining({
        address: 'eu-west-1.aws.api.temporal.io:7233',
        apiKey: 'key-abc',
        tls: true,
      }),
    });
  });

  it('TEMPORAL_TLS_* set the server CA, the client certificate pair and the server name', () => {
    const config = loadConfig({
      TEMPORAL_CONFIG_FILE: noToml(),
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    const tls = config.temporal.connectionOptions.tls as Exclude<
      typeof config.temporal.connectionOptions.tls,
      boolean | undefined | null
    >;
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toContain('-----BEGIN CERTIFICATE-----');
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toContain('-----BEGIN CERTIFICATE-----');
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toContain('PRIVATE KEY-----');
    expect(tls.serverNameOverride).toBe('localhost');
    expect(config.temporal.connectionOptions.apiKey).toBeUndefined();
  });

  it('TEMPORAL_TLS=true alone turns TLS on with the system CAs; without any setting the connection is plain', () => {
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: noToml(), TEMPORAL_TLS: 'true' }).temporal.connectionOptions.tls).toEqual(
      expect.objectContaining({ clientCertPair: undefined }),
    );
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: noToml() }).temporal.connectionOptions).toMatchObject({
      address: '127.0.0.1:7233',
      tls: undefined,
      apiKey: undefined,
    });
  });

  it('reads a temporal.toml profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE); environment variables override it', () => {
    const toml = join(dir, 'temporal.toml');
    writeFileSync(
      toml,
      [
        '[profile.default]',
        'address = "127.0.0.1:7233"',
        '',
        '[profile.prod]',
        'address = "prod.tmprl.cloud:7233"',
        'namespace = "orch.prod"',
        'api_key = "toml-key"',
        '[profile.prod.tls]',
        `server_ca_cert_path = ${JSON.stringify(pki.caCert)}`,
        'server_name = "localhost"',
      ].join('\n'),
    );
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    expect(config.temporal.namespace).toBe('orch.prod');
    expect(config.temporal.connectionOptions).toMatchObject({
      address: 'prod.tmprl.cloud:7233',
      apiKey: 'toml-key',
      tls: { serverNameOverride: 'localhost' },
    });
    expect(
      loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_API_KEY: 'env-key' }).temporal
        .connectionOptions.apiKey,
    ).toBe('env-key');
    expect(errorOf(() => loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' })).message).toMatch(
      /invalid Temporal connection settings: Profile 'staging' not found/,
    );
  });

  it.each([
    [
      'a missing CA file',
      { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' },
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read \/nonexistent\/ca\.pem/,
    ],
    [
      'a missing client certificate',
      {
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key',
      },
      /TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read/,
    ],
    [
      'a CA file that is not PEM',
      { TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'NOT_PEM' },
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH: not PEM/,
    ],
    [
      'a client key that is not PEM',
      { TEMPORAL_TLS_CLIENT_CERT_PATH: 'CERT', TEMPORAL_TLS_CLIENT_KEY_PATH: 'NOT_PEM' },
      /TEMPORAL_TLS_CLIENT_KEY_PATH: not PEM/,
    ],
    [
      'a client certificate without its key',
      { TEMPORAL_TLS_CLIENT_CERT_PATH: 'CERT' },
      /TEMPORAL_TLS_CLIENT_CERT_PATH .* and TEMPORAL_TLS_CLIENT_KEY_PATH .* must be set together/,
    ],
  ])('%s stops the start with an error naming the setting', (_, settings, message) => {
    const env = Object.fromEntries(
      Object.entries(settings).map(([name, value]) => [
        name,
        value === 'CERT' ? pki.clientCert : value === 'NOT_PEM' ? join(dir, 'not-pem.txt') : value,
      ]),
    );
    const error = errorOf(() => loadConfig({ TEMPORAL_CONFIG_FILE: noToml(), ...env }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
  });

  it('a bad file named in temporal.toml is reported as coming from the profile', () => {
    const toml = join(dir, 'bad.toml');
    writeFileSync(
      toml,
      '[profile.default]\naddress = "a:7233"\n[profile.default.tls]\nserver_ca_cert_path = "/nonexistent/toml-ca.pem"\n',
    );
    expect(errorOf(() => loadConfig({ TEMPORAL_CONFIG_FILE: toml })).message).toMatch(
      /cannot read \/nonexistent\/toml-ca\.pem \(named by the Temporal profile/,
    );
  });

  it('the orch CLI reads the same settings: a bad TLS file exits 2 naming it', () => {
    const run = runCliSync(['state', 'some-corr'], { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  });
});

/**
 * A TLS gRPC endpoint that records the request headers and answers every call UNAUTHENTICATED:
 * enough to see what a client sends inside TLS (the dev server ignores API keys).
 */
async function startHeaderRecorder(
  testPki: TestPki,
): Promise<{ address: string; requests: http2.IncomingHttpHeaders[]; stop(): Promise<void> }> {
  const requests: http2.IncomingHttpHeaders[] = [];
  const server = http2.createSecureServer({
    cert: readFileSync(testPki.serverCert),
    key: readFileSync(testPki.serverKey),
    ALPNProtocols: ['h2'],
  });
  server.on('stream', (stream, headers) => {
    requests.push(headers);
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': '16',
        'grpc-message': 'recorded by the test',
      },
      { endStream: true },
    );
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    requests,
    stop: () => {
      for (const session of sessions) session.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('TEMPORAL_API_KEY on the wire', () => {
  it('the worker (NativeConnection) and the CLI client send it as a bearer token, inside TLS', async () => {
    const recorder = await startHeaderRecorder(pki);
    try {
      const env = {
        TEMPORAL_CONFIG_FILE: join(dir, 'none.toml'),
        TEMPORAL_ADDRESS: recorder.address,
        TEMPORAL_API_KEY: 'key-on-the-wire',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
      };
      const config = loadConfig(env);
      // The recorder's answer, UNAUTHENTICATED: the worker's connection reached it, over TLS, and
      // failed on that answer, not before.
      const connecting = NativeConnection.connect(config.temporal.connectionOptions);
      await expect(connecting).rejects.toThrow(TransportError);
      await expect(connecting).rejects.toThrow(
        `Failed to call GetSystemInfo: code: 'The request does not have valid authentication credentials', message: "recorded by the test"`,
      );
      await expect(openTemporal(config)).rejects.toThrow(/cannot connect to Temporal/);
      expect(recorder.requests.map((headers) => headers[':path'])).toEqual(
        expect.arrayContaining([expect.stringMatching(/^\/temporal\.api\.workflowservice\.v1\.WorkflowService\//)]),
      );
      const authorizations = recorder.requests.map((headers) => headers.authorization);
      expect(authorizations.length).toBeGreaterThanOrEqual(2);
      for (const authorization of authorizations) expect(authorization).toBe('Bearer key-on-the-wire');
    } finally {
      await recorder.stop();
    }
  });
});

describe('Temporal over TLS, for real (TLS proxy in front of the dev server)', () => {
  let temporal: TemporalDevServer;
  let nats: TestNats;
  let proxy: TlsProxy;
  let mtlsProxy: TlsProxy;
  const processes: ManagedProcess[] = [];
  const logDir = mkdtempSync(join(tmpdir(), 'orch-temporal-tls-logs-'));

  beforeAll(async () => {
    [temporal, nats] = await Promise.all([startTemporalDevServer({ uiPort: false }), startTestNats()]);
    proxy = await startTlsProxy(temporal.address, pki);
    mtlsProxy = await startTlsProxy(temporal.address, pki, { requireClientCertificate: true });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all([proxy?.stop(), mtlsProxy?.stop()]);
    await Promise.all([temporal?.stop(), nats?.stop()]);
  });

  const tlsEnv = (address: string): Record<string, string> => ({
    TEMPORAL_CONFIG_FILE: join(dir, 'none.toml'),
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
    // The certificate names 127.0.0.1 too, but Node's TLS warns when SNI is an IP address.
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });

  it('a client from loadConfig connects over TLS with the CA; trusting another CA, or no TLS, it cannot', async () => {
    const client = await connectTemporalClient(loadConfig(tlsEnv(proxy.address)).temporal);
    try {
      const health = await client.connection.healthService.check({});
      expect(health.status).toBe(1); // SERVING
    } finally {
      await client.connection.close();
    }
    expect(proxy.accepted.at(-1)).toEqual({ alpn: 'h2', clientCertificate: false });

    const wrongCa = loadConfig({ ...tlsEnv(proxy.address), TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.otherCaCert });
    await expect(openTemporal(wrongCa)).rejects.toThrow(
      /cannot connect to Temporal at 127\.0\.0\.1:\d+ \(TEMPORAL_ADDRESS\)/,
    );
    const plain = loadConfig({ TEMPORAL_CONFIG_FILE: join(dir, 'none.toml'), TEMPORAL_ADDRESS: proxy.address });
    await expect(openTemporal(plain)).rejects.toThrow(/cannot connect to Temporal/);
  });

  it('mutual TLS: TEMPORAL_TLS_CLIENT_CERT_PATH and _KEY_PATH present the client certificate; without them the server refuses', async () => {
    const env = {
      ...tlsEnv(mtlsProxy.address),
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
    };
    const connection = await Connection.connect(loadConfig(env).temporal.connectionOptions);
    try {
      expect((await connection.healthService.check({})).status).toBe(1);
    } finally {
      await connection.close();
    }
    expect(mtlsProxy.accepted.some((c) => c.clientCertificate)).toBe(true);
    await expect(openTemporal(loadConfig(tlsEnv(mtlsProxy.address)))).rejects.toThrow(/cannot connect to Temporal/);
  });

  it('the real worker process connects over TLS with an API key and decides a correlation; the orch CLI reads it over TLS', async () => {
    const taskQueue = uniqueCorrId('tls-tq');
    const before = proxy.accepted.length;
    const worker = workerProcess(
      {
        ...tlsEnv(proxy.address),
        TEMPORAL_API_KEY: 'test-api-key-not-checked-by-the-dev-server',
        NATS_URL: nats.server.url,
        ORCH_TASK_QUEUE: taskQueue,
        ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
      },
      join(logDir, 'worker.log'),
    );
    processes.push(worker);
    await worker.start();
    // The worker's connections (NativeConnection and its readiness probe) came through the TLS proxy.
    expect(proxy.accepted.length).toBeGreaterThan(before);

    const corrId = uniqueCorrId('tls');
    const client = await connectTemporalClient(loadConfig(tlsEnv(proxy.address)).temporal);
    try {
      const decision = await runDemoCorrelation(client, taskQueue, corrId);
      expect(decision.decision.action).toBe('trade');
    } finally {
      await client.connection.close();
    }
    expect(await storedDecisions(nats.jsm, corrId)).toHaveLength(1);

    const state = await runCli(['state', corrId, '--json'], tlsEnv(proxy.address));
    expect(state.stderr).toBe('');
    expect(state.status).toBe(0);
    expect(JSON.parse(state.stdout)).toMatchObject({ corr_id: corrId, status: 'completed' });
  });
});
