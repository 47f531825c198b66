/**
 * The NATS settings under the names the `nats` CLI uses (NATS_CREDS, NATS_NKEY, NATS_CA,
 * NATS_CERT, NATS_KEY), and NKey authentication, on a real nats-server: one whose only user is an
 * NKey, and the production configuration with TLS and passwords.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from 'nats';
import { openNats } from '../../src/client/commands/common';
import { ConfigError, loadConfig } from '../../src/config';
import { getFreePort, NatsServer } from '../../src/devstack/processes';
import { requireTool } from '../../src/devstack/tools';
import { natsConnectionOptions } from '../../src/nats/connection';
import { errorOf } from '../support/errors';
import { type SecureNats, startSecureNats } from '../support/secure-nats';

const dir = mkdtempSync(join(tmpdir(), 'orch-nkey-'));
const user = nkeys.createUser();
const seedFile = join(dir, 'orchestrator.nk');
let server: NatsServer;
let secure: SecureNats;

beforeAll(async () => {
  writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
  const configFile = join(dir, 'nats-server.conf');
  writeFileSync(
    configFile,
    `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }\nauthorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n`,
  );
  const [port, monitorPort] = [await getFreePort(), await getFreePort()];
  server = new NatsServer(port, monitorPort, {
    label: 'nats-server (NKey user)',
    command: requireTool('nats-server'),
    args: ['-c', configFile, '-a', '127.0.0.1', '-p', String(port), '--http_port', String(monitorPort)],
    logFile: join(dir, 'nats-server.log'),
  });
  [, secure] = await Promise.all([server.start(), startSecureNats()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([server?.stop(), secure?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('NKey authentication (NATS_NKEY)', () => {
  it('connects with the seed file, and is refused without it or with another key', async () => {
    const nc = await openNats(loadConfig({ NATS_URL: server.url, NATS_NKEY: seedFile }));
    expect(nc.info?.auth_required).toBe(true);
    await nc.close();
    await expect(openNats(loadConfig({ NATS_URL: server.url }))).rejects.toThrow(/Authorization Violation/i);
    const other = join(dir, 'other.nk');
    writeFileSync(other, new TextDecoder().decode(nkeys.createUser().getSeed()));
    await expect(openNats(loadConfig({ NATS_URL: server.url, NATS_NKEY: other }))).rejects.toThrow(
      /Authorization Violation/i,
    );
  });

  it('names NATS_NKEY when its file is missing or holds no seed, and refuses it next to a credentials file', () => {
    const notASeed = join(dir, 'not-a-seed.nk');
    writeFileSync(notASeed, user.getPublicKey());
    expect(errorOf(() => natsConnectionOptions(loadConfig({ NATS_NKEY: '/nonexistent/x.nk' }).nats)).message).toMatch(
      /NATS_NKEY: cannot read \/nonexistent\/x\.nk/,
    );
    expect(errorOf(() => natsConnectionOptions(loadConfig({ NATS_NKEY: notASeed }).nats)).message).toMatch(
      /NATS_NKEY: .*not-a-seed\.nk holds no NKey seed/,
    );
    const both = errorOf(() => loadConfig({ NATS_NKEY: seedFile, NATS_CREDS_FILE: '/x.creds' }));
    expect(both).toBeInstanceOf(ConfigError);
    expect(both.message).toContain('NATS_NKEY and NATS_CREDS_FILE are two ways to authenticate: set one');
  });
});

describe("the nats CLI's variable names", () => {
  it('NATS_CA, NATS_CERT, NATS_KEY and NATS_CREDS mean our NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE and NATS_CREDS_FILE', () => {
    expect(
      loadConfig({ NATS_CA: '/ca.pem', NATS_CERT: '/c.pem', NATS_KEY: '/k.pem', NATS_CREDS: '/u.creds' }).nats,
    ).toMatchObject({
      tlsCaFile: '/ca.pem',
      tlsCertFile: '/c.pem',
      tlsKeyFile: '/k.pem',
      credsFile: '/u.creds',
    });
    // Both names for the same file are fine; for two different files, the error names both.
    expect(loadConfig({ NATS_CA: '/ca.pem', NATS_TLS_CA_FILE: '/ca.pem' }).nats.tlsCaFile).toBe('/ca.pem');
    expect(errorOf(() => loadConfig({ NATS_CA: '/a.pem', NATS_TLS_CA_FILE: '/b.pem' })).message).toBe(
      "invalid configuration: NATS_TLS_CA_FILE and NATS_CA (the nats CLI's name for it) name different files (/b.pem, /a.pem): set one",
    );
    expect(errorOf(() => loadConfig({ NATS_CERT: '/c.pem' })).message).toBe(
      'invalid configuration: NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together',
    );
  });

  it('connect to the production configuration (TLS, users) with NATS_CA in place of NATS_TLS_CA_FILE', async () => {
    const { NATS_TLS_CA_FILE: ca, ...env } = secure.envFor('admin');
    const nc = await openNats(loadConfig({ ...env, NATS_CA: ca }));
    expect(nc.info?.tls_required).toBe(true);
    await nc.close();
  });
});

describe('a nats CLI context by name (NATS_CONTEXT)', () => {
  /** Writes context `name` as `nats context save` would, under its own XDG_CONFIG_HOME. */
  function saveContext(name: string, fields: Record<string, unknown>): Record<string, string> {
    const configHome = join(dir, 'xdg');
    mkdirSync(join(configHome, 'nats', 'context'), { recursive: true });
    // The CLI writes every field, the unused ones empty.
    writeFileSync(
      join(configHome, 'nats', 'context', `${name}.json`),
      JSON.stringify({
        description: '',
        url: '',
        token: '',
        user: '',
        password: '',
        creds: '',
        nkey: '',
        cert: '',
        key: '',
        ca: '',
        nsc: '',
        jetstream_domain: '',
        ...fields,
      }),
    );
    return { XDG_CONFIG_HOME: configHome, NATS_CONTEXT: name };
  }

  it("connects with the context's url and NKey seed, to the server that knows only that key", async () => {
    const env = saveContext('orch-nkey', { url: server.url, nkey: seedFile });
    const nc = await openNats(loadConfig(env));
    expect(nc.info?.auth_required).toBe(true);
    await nc.close();
  });

  it('lets a setting of the environment win over the same one in the context', async () => {
    const other = join(dir, 'other-for-context.nk');
    writeFileSync(other, new TextDecoder().decode(nkeys.createUser().getSeed()));
    const env = saveContext('orch-nkey-2', { url: 'nats://127.0.0.1:1', nkey: seedFile });
    expect(loadConfig({ ...env, NATS_URL: server.url }).nats).toMatchObject({
      servers: [server.url],
      nkeyFile: seedFile,
    });
    await expect(openNats(loadConfig({ ...env, NATS_URL: server.url, NATS_NKEY: other }))).rejects.toThrow(
      /Authorization Violation/i,
    );
  });

  it("connects to the production configuration (TLS, users) with the context's ca, user and password", async () => {
    const { NATS_URL: url, NATS_TLS_CA_FILE: ca, NATS_USER: user, NATS_PASSWORD: password } = secure.envFor('admin');
    const nc = await openNats(loadConfig(saveContext('orch-tls', { url, ca, user, password })));
    expect(nc.info?.tls_required).toBe(true);
    await nc.close();
  });

  it('names the setting and the file when the context is missing, malformed or uses what the orchestrator does not support', () => {
    const missing = errorOf(() => loadConfig({ XDG_CONFIG_HOME: join(dir, 'xdg'), NATS_CONTEXT: 'nope' }));
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toBe(
      `invalid configuration: NATS_CONTEXT: no context "nope" at ${join(dir, 'xdg', 'nats', 'context', 'nope.json')} (\`nats context ls\` lists the contexts)`,
    );
    expect(errorOf(() => loadConfig({ NATS_CONTEXT: '../etc/passwd' })).message).toBe(
      'invalid configuration: NATS_CONTEXT: "../etc/passwd" is not a context name (letters, digits, ., _ and -)',
    );
    const token = saveContext('orch-token', { url: server.url, token: 's3cret' });
    expect(errorOf(() => loadConfig(token)).message).toMatch(
      /^invalid configuration: NATS_CONTEXT: .*orch-token\.json sets token, which the orchestrator does not support/,
    );
    const badType = saveContext('orch-bad', { url: 4222 });
    expect(errorOf(() => loadConfig(badType)).message).toMatch(/orch-bad\.json: "url" must be a string$/);
  });
});
