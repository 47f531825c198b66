/**
 * NATS authentication and TLS settings: what loadConfig accepts, what it refuses at start-up (naming
 * the setting), and the connection options every process and the CLI build from them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { compiledEntryPoint } from '../../src/devstack/local-stack';
import { natsConnectionOptions } from '../../src/nats/connection';
import { generateTestPki, type TestPki } from '../support/secure-nats';
import { errorOf } from '../support/errors';

let pki: TestPki;
let notPem: string;
beforeAll(() => {
  pki = generateTestPki();
  notPem = join(mkdtempSync(join(tmpdir(), 'orch-not-pem-')), 'ca.txt');
  writeFileSync(notPem, 'not a certificate');
});

const options = (env: Record<string, string>) => natsConnectionOptions(loadConfig(env).nats);

describe('NATS security settings', () => {
  it('no settings: plain connection, no credentials', () => {
    expect(options({ NATS_URL: 'nats://n:4222' })).toEqual({ servers: ['nats://n:4222'] });
  });

  it('NATS_USER and NATS_PASSWORD, with NATS_TLS_CA_FILE', () => {
    expect(
      options({
        NATS_URL: 'nats://n:4222',
        NATS_USER: 'orchestrator-bridge',
        NATS_PASSWORD: 'pw',
        NATS_TLS_CA_FILE: pki.caCert,
      }),
    ).toEqual({
      servers: ['nats://n:4222'],
      user: 'orchestrator-bridge',
      pass: 'pw',
      tls: { caFile: pki.caCert },
    });
  });

  it('NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE: a client certificate for mutual TLS', () => {
    const config = loadConfig({
      NATS_TLS_CA_FILE: pki.caCert,
      NATS_TLS_CERT_FILE: pki.clientCert,
      NATS_TLS_KEY_FILE: pki.clientKey,
    });
    expect(config.nats).toMatchObject({
      tlsCaFile: pki.caCert,
      tlsCertFile: pki.clientCert,
      tlsKeyFile: pki.clientKey,
    });
    expect(natsConnectionOptions(config.nats).tls).toEqual({
      caFile: pki.caCert,
      certFile: pki.clientCert,
      keyFile: pki.clientKey,
    });
  });

  it('a tls:// URL requires TLS even without a CA file (the system CAs verify the server)', () => {
    expect(options({ NATS_URL: 'tls://nats.example.com:4222' }).tls).toEqual({});
    expect(options({ NATS_URL: 'nats://nats.example.com:4222' }).tls).toBeUndefined();
  });

  it.each([
    ['NATS_USER without NATS_PASSWORD', { NATS_USER: 'u' }, /NATS_USER and NATS_PASSWORD must be set together/],
    [
      'a certificate without its key',
      { NATS_TLS_CERT_FILE: 'CERT' },
      /NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together/,
    ],
    [
      'a missing CA file',
      { NATS_TLS_CA_FILE: '/nonexistent/ca.pem' },
      /NATS_TLS_CA_FILE: cannot read \/nonexistent\/ca\.pem/,
    ],
    ['a CA file that is not PEM', { NATS_TLS_CA_FILE: 'NOT_PEM' }, /NATS_TLS_CA_FILE: .* is not a PEM file/],
    [
      'a key file that is not PEM',
      { NATS_TLS_CERT_FILE: 'CERT', NATS_TLS_KEY_FILE: 'NOT_PEM' },
      /NATS_TLS_KEY_FILE: .* is not a PEM file/,
    ],
    [
      'a missing credentials file',
      { NATS_CREDS_FILE: '/nonexistent/orch.creds' },
      /NATS_CREDS_FILE: cannot read \/nonexistent\/orch\.creds/,
    ],
  ])('%s stops the start with an error naming the setting', (_, settings, message) => {
    const env = Object.fromEntries(
      Object.entries(settings).map(([name, value]) => [
        name,
        value === 'CERT' ? pki.clientCert : value === 'NOT_PEM' ? notPem : value,
      ]),
    );
    // Files are read when the connection options are built (at start-up, before connecting):
    // loadConfig alone accepts paths that exist only where the process runs (a mounted Secret).
    const error = errorOf(() => natsConnectionOptions(loadConfig(env).nats));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
  });

  it('never puts a password in an error message', () => {
    const error = errorOf(() =>
      natsConnectionOptions(
        loadConfig({ NATS_USER: 'u', NATS_PASSWORD: 'pw-secret-123', NATS_TLS_CA_FILE: '/nonexistent/ca.pem' }).nats,
      ),
    );
    expect(error.message).not.toContain('pw-secret-123');
  });

  it('a worker with a missing CA file exits 2 at start-up, naming the setting', () => {
    const run = spawnSync(process.execPath, [compiledEntryPoint('workers/worker')], {
      env: {
        ...process.env,
        NATS_URL: 'nats://127.0.0.1:1',
        NATS_TLS_CA_FILE: '/nonexistent/ca.pem',
        ORCH_HTTP_PORT: '0',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('NATS_TLS_CA_FILE: cannot read /nonexistent/ca.pem');
  });
});
