/**
 * NATS authentication, authorisation and TLS against a real nats-server running the production
 * example configuration (deploy/nats/nats-server.conf) with certificates made at test time: who may
 * connect, who may publish where, and the orchestrator's real worker and bridge processes deciding a
 * correlation end to end over TLS as their own users.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, ErrorCode, type NatsConnection, type NatsError } from 'nats';
import { openNats } from '../../src/client/commands/common';
import { loadConfig } from '../../src/config';
import { bridgeProcess, compiledEntryPoint, workerProcess } from '../../src/devstack/local-stack';
import { type ManagedProcess, startTemporalDevServer, type TemporalDevServer } from '../../src/devstack/processes';
import { natsConnectionOptions } from '../../src/nats/connection';
import { DLQ_STREAM, SIGNALS_STREAM, signalSubject } from '../../src/nats/streams';
import { storedDecisions } from '../support/decisions';
import { waitFor } from '../support/e2e-stack';
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { type SecureNats, startSecureNats } from '../support/secure-nats';
import { momentum, risk, uniqueCorrId } from '../support/signals';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

async function connectError(options: Parameters<typeof connect>[0]): Promise<NatsError> {
  const result: { nc?: NatsConnection; error?: NatsError } = await connect({
    ...options,
    timeout: 2_000,
    reconnect: false,
    maxReconnectAttempts: 0,
  }).then(
    (nc) => ({ nc }),
    // (Errors from node:tls come from another realm than jest's sandbox: no instanceof.)
    (error: NatsError) => ({ error }),
  );
  if (result.nc) {
    await result.nc.close();
    throw new Error('expected the connection to be refused');
  }
  return result.error as NatsError;
}

/** Sequences in SIGNALS whose subject is `subject`. */
async function storedOn(nats: SecureNats, subject: string): Promise<number> {
  const info = await nats.admin.jsm.streams.info(SIGNALS_STREAM, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe('NATS with TLS and per-user permissions (deploy/nats/nats-server.conf)', () => {
  let nats: SecureNats;
  const opened: NatsConnection[] = [];

  beforeAll(async () => {
    nats = await startSecureNats();
    // What the bridge creates at start; made here so the agent tests need no bridge.
    await nats.admin.jsm.streams.add({ name: SIGNALS_STREAM, subjects: ['signals.enriched.>'] });
  });
  afterAll(async () => {
    await Promise.all(opened.map((nc) => nc.close()));
    await nats?.stop();
  });

  async function connectAs(user: Parameters<SecureNats['optionsFor']>[0]): Promise<NatsConnection> {
    const nc = await connect({ ...nats.optionsFor(user), name: `test-${user}`, reconnect: false });
    opened.push(nc);
    return nc;
  }

  it('refuses a client without credentials', async () => {
    const error = await connectError({ servers: nats.url, tls: { caFile: nats.pki.caCert } });
    expect(error.code).toBe(ErrorCode.AuthorizationViolation);
  });

  it('refuses a wrong password', async () => {
    const error = await connectError({
      servers: nats.url,
      user: 'momentum',
      pass: 'not-the-password',
      tls: { caFile: nats.pki.caCert },
    });
    expect(error.code).toBe(ErrorCode.AuthorizationViolation);
  });

  it('refuses a client that does not trust the server certificate', async () => {
    const error = await connectError({ ...nats.optionsFor('admin'), tls: { caFile: nats.pki.otherCaCert } });
    expect(error.message).toMatch(/certificate/i);
  });

  it('refuses a plain-text connection: nothing is served before the TLS handshake', async () => {
    // nats.js always upgrades when the server asks, so speak the protocol by hand, with a valid password.
    const socket = net.connect({ host: '127.0.0.1', port: nats.server.port });
    const received: string[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await waitFor('the INFO line', async () => (received.join('').includes('\r\n') ? true : undefined), 5_000);
    const info = JSON.parse(
      received
        .join('')
        .replace(/^INFO /, '')
        .split('\r\n')[0],
    ) as { tls_required?: boolean };
    expect(info.tls_required).toBe(true);
    socket.write(
      `CONNECT ${JSON.stringify({ user: 'admin', pass: nats.passwords.admin, verbose: false, pedantic: false, tls_required: false })}\r\nPING\r\n`,
    );
    await Promise.race([
      closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the server kept a plain-text connection open')), 10_000),
      ),
    ]);
    expect(received.join('')).not.toContain('PONG');
    expect(received.join('')).not.toMatch(/\+OK/);
  });

  it('lets an agent publish on its own subject, and the message lands in SIGNALS', async () => {
    const nc = await connectAs('momentum');
    const before = await storedOn(nats, signalSubject('momentum'));
    const ack = await nc.jetstream().publish(signalSubject('momentum'), encode(momentum(uniqueCorrId('own'))));
    expect(ack.stream).toBe(SIGNALS_STREAM);
    expect(await storedOn(nats, signalSubject('momentum'))).toBe(before + 1);
  });

  it("refuses an agent publishing on another agent's subject: the client sees the violation, SIGNALS never gets it", async () => {
    const nc = await connectAs('momentum');
    const violations: unknown[] = [];
    void (async () => {
      for await (const status of nc.status())
        if (status.data === ErrorCode.PermissionsViolation) violations.push(status);
    })();
    const before = await storedOn(nats, signalSubject('risk'));
    const spoofed = risk(uniqueCorrId('spoof'));
    const error = (await nc
      .jetstream()
      .publish(signalSubject('risk'), encode(spoofed), { timeout: 5_000 })
      .then(
        () => undefined,
        (e: NatsError) => e,
      )) as NatsError | undefined;
    expect(error?.code).toBe(ErrorCode.PermissionsViolation);
    expect(error?.message).toContain('Permissions Violation for Publish to "signals.enriched.risk"');
    await waitFor(
      'the violation on the status stream',
      async () => (violations.length === 1 ? true : undefined),
      5_000,
    );
    // A plain publish (no ack awaited) is dropped by the server just the same.
    nc.publish(signalSubject('risk'), encode(spoofed));
    await nc.flush();
    await waitFor('the second violation', async () => (violations.length === 2 ? true : undefined), 5_000);
    expect(await storedOn(nats, signalSubject('risk'))).toBe(before);
    // The connection survives a refused publish.
    expect(nc.isClosed()).toBe(false);
  });

  it('refuses an agent reading the SIGNALS stream or anything but its replies', async () => {
    const nc = await connectAs('risk');
    const error = await nc
      .jetstreamManager()
      .then((jsm) => jsm.streams.info(SIGNALS_STREAM))
      .then(
        () => undefined,
        (e: NatsError) => e,
      );
    expect(error?.code).toBe(ErrorCode.PermissionsViolation);
    const refused = new Promise<NatsError | null>((resolve) =>
      nc.subscribe('signals.enriched.>', { callback: (err) => resolve(err) }),
    );
    expect((await refused)?.code).toBe(ErrorCode.PermissionsViolation);
  });

  it('refuses the worker publishing agent signals, and the bridge publishing decisions', async () => {
    const worker = await connectAs('orchestrator-worker');
    const bridge = await connectAs('orchestrator-bridge');
    for (const [nc, subject] of [
      [worker, signalSubject('momentum')],
      [bridge, 'orchestrated.decision'],
    ] as const) {
      const error = await nc.request(subject, encode({}), { timeout: 5_000 }).then(
        () => undefined,
        (e: NatsError) => e,
      );
      expect(error?.code).toBe(ErrorCode.PermissionsViolation);
    }
  });

  it('the orch CLI connects with the same settings (NATS_USER, NATS_PASSWORD, NATS_TLS_CA_FILE)', async () => {
    const config = loadConfig({ ...nats.envFor('admin') });
    expect(natsConnectionOptions(config.nats)).toMatchObject({ user: 'admin', tls: { caFile: nats.pki.caCert } });
    const nc = await openNats(config);
    opened.push(nc);
    expect(nc.info?.tls_required).toBe(true);
    await expect(openNats(loadConfig({ NATS_URL: nats.url, NATS_TLS_CA_FILE: nats.pki.caCert }))).rejects.toThrow(
      /cannot connect to NATS .*Authorization Violation/i,
    );
  });

  it("`orch publish` with an agent's credentials: its own subject lands, another agent's is refused", async () => {
    const orch = (agent: string, user: 'momentum' | 'risk') =>
      spawnSync(
        process.execPath,
        [
          compiledEntryPoint('client/cli'),
          'publish',
          '--agent',
          agent,
          '--corr-id',
          uniqueCorrId('cli'),
          '--analysis',
          '{"risk_level":"low"}',
        ],
        {
          env: { ...process.env, ...nats.envFor(user) },
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
    const before = await storedOn(nats, signalSubject('risk'));
    const own = orch('risk', 'risk');
    expect(own.stderr).toBe('');
    expect(own.stdout).toMatch(/^published signals\.enriched\.risk -> SIGNALS #\d+/);
    const spoofed = orch('risk', 'momentum');
    expect(spoofed.status).toBe(1);
    expect(spoofed.stderr).toMatch(
      /^error: publishing to signals\.enriched\.risk failed: '?Permissions Violation for Publish to "signals\.enriched\.risk"/,
    );
    expect(await storedOn(nats, signalSubject('risk'))).toBe(before + 1);
  });

  describe('the real worker and bridge processes, each as its own user over TLS', () => {
    let temporal: TemporalDevServer;
    const processes: ManagedProcess[] = [];
    const logDir = mkdtempSync(join(tmpdir(), 'orch-secure-'));

    beforeAll(async () => {
      temporal = await startTemporalDevServer({ uiPort: false });
      const common = {
        TEMPORAL_ADDRESS: temporal.address,
        ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
        ORCH_LOG_LEVEL: 'info',
      };
      processes.push(workerProcess({ ...common, ...nats.envFor('orchestrator-worker') }, join(logDir, 'worker.log')));
      processes.push(bridgeProcess({ ...common, ...nats.envFor('orchestrator-bridge') }, join(logDir, 'bridge.log')));
      await Promise.all(processes.map((p) => p.start()));
    }, 90_000);
    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await temporal?.stop();
    });

    it('decide a correlation published by the momentum and risk agents, and DLQ a bad message', async () => {
      const corrId = uniqueCorrId('tls');
      const [agentMomentum, agentRisk] = [await connectAs('momentum'), await connectAs('risk')];
      await agentMomentum.jetstream().publish(signalSubject('momentum'), encode(momentum(corrId)));
      await agentRisk.jetstream().publish(signalSubject('risk'), encode(risk(corrId)));
      await agentRisk.jetstream().publish(signalSubject('risk'), new TextEncoder().encode('not json'));

      const decisions = await waitFor(`the decision of ${corrId}`, async () => {
        const found = await storedDecisions(nats.admin.jsm, corrId);
        return found.length > 0 ? found : undefined;
      });
      expect(decisions).toHaveLength(1);
      expect(decisions[0]).toMatchObject({
        msgId: corrId,
        decision: { decision: { action: 'trade' }, contributing_agents: ['momentum', 'risk'] },
      });
      // The bridge wrote the bad message to the DLQ under its own user.
      await waitFor('the DLQ entry', async () =>
        (await nats.admin.jsm.streams.info(DLQ_STREAM).catch(() => undefined))?.state.messages === 1 ? true : undefined,
      );
      // Both processes are connected to the TLS port as their users.
      const connz = (await (await fetch(`${nats.server.monitorUrl}/connz?auth=true`)).json()) as {
        connections: Array<{ name?: string; authorized_user?: string; tls_version?: string }>;
      };
      const byName = Object.fromEntries(connz.connections.map((c) => [c.name, c]));
      expect(byName['orchestrator-worker']).toMatchObject({
        authorized_user: 'orchestrator-worker',
        tls_version: expect.stringMatching(/^1\.[23]$/),
      });
      expect(byName['orchestrator-bridge']).toMatchObject({
        authorized_user: 'orchestrator-bridge',
        tls_version: expect.stringMatching(/^1\.[23]$/),
      });
    });
  });
});

describe('NATS with mutual TLS (verify: true)', () => {
  let nats: SecureNats;
  beforeAll(async () => {
    nats = await startSecureNats({ mutualTls: true });
  });
  afterAll(async () => nats?.stop());

  it('refuses a client without a certificate, even with the right password', async () => {
    const error = await connectError({
      servers: nats.url,
      user: 'admin',
      pass: nats.passwords.admin,
      tls: { caFile: nats.pki.caCert },
    });
    expect(error.message).toMatch(/certificate|closed|socket|ECONNRESET|CONNECTION_REFUSED/i);
  });

  it('accepts NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE', async () => {
    const config = loadConfig({ ...nats.envFor('admin') });
    expect(config.nats).toMatchObject({ tlsCertFile: nats.pki.clientCert, tlsKeyFile: nats.pki.clientKey });
    const nc = await connect({ ...natsConnectionOptions(config.nats), reconnect: false });
    await nc.flush();
    await nc.close();
  });
});
