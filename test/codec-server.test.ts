/**
 * The codec server as operators run it: the compiled entry point as a child process, spoken to over
 * HTTP as the Temporal UI and the temporal CLI do (Temporal's remote codec protocol).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { EncryptionCodec, METADATA_KEY_ID } from '../src/codec';
import { payloadFromJson, payloadToJson } from '../src/codec/server';
import { codecServerProcess, compiledEntryPoint } from '../src/devstack/local-stack';
import { getFreePort, type ManagedProcess } from '../src/devstack/processes';

const TOKEN = randomBytes(24).toString('hex');
const UI_ORIGIN = 'http://localhost:8233';
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const ring = (current: string) => ({
  currentKeyId: current,
  keys: new Map([
    ['old', oldKey],
    ['new', newKey],
  ]),
});

const decision = { corr_id: 'evt-codec-1', decision: { action: 'trade' }, contributing_agents: ['momentum', 'risk'] };

describe('the codec server entry point', () => {
  const logDir = mkdtempSync(join(tmpdir(), 'orch-codec-server-'));
  let server: ManagedProcess;
  let base: string;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const authorised = { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'default' };

  beforeAll(async () => {
    const port = await getFreePort();
    base = `http://127.0.0.1:${port}`;
    server = codecServerProcess(
      {
        ORCH_CODEC_KEYS: `old:${oldKey.toString('base64')},new:${newKey.toString('base64')}`,
        ORCH_CODEC_KEY_ID: 'new',
        ORCH_CODEC_SERVER_PORT: String(port),
        ORCH_CODEC_SERVER_TOKEN: TOKEN,
        ORCH_CODEC_CORS_ORIGINS: UI_ORIGIN,
      },
      join(logDir, 'codec-server.log'),
    );
    await server.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('explains itself with --help, and refuses to start without keys (exit 2, naming the setting)', () => {
    const help = spawnSync(process.execPath, [compiledEntryPoint('workers/codec-server'), '--help'], {
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    for (const text of [
      'Usage: orchestrator-codec-server',
      '/decode',
      'ORCH_CODEC_SERVER_TOKEN',
      '--ui-codec-endpoint',
      'ORCH_CODEC_CORS_ORIGINS',
    ])
      expect(help.stdout).toContain(text);
    // A policy file the codec server does not use is not read: a missing one does not stop it.
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORCH_CODEC'))),
      ORCH_POLICY_FILE: '/nonexistent/policy.json',
    };
    const noKeys = spawnSync(process.execPath, [compiledEntryPoint('workers/codec-server')], { encoding: 'utf8', env });
    expect(noKeys.status).toBe(2);
    expect(noKeys.stderr).toContain(
      'the codec server needs the payload encryption keys: set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE',
    );
    expect(noKeys.stderr).not.toContain('policy');

    // The same, as `orch codec-server`.
    const cli = compiledEntryPoint('client/cli');
    expect(spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout).toMatch(
      /codec-server +serve the payload encryption codec/,
    );
    const orchHelp = spawnSync(process.execPath, [cli, 'codec-server', '--help'], { encoding: 'utf8' });
    expect(orchHelp.status).toBe(0);
    for (const text of ['Usage: orch codec-server', '/decode', 'Options:', 'Examples:', 'ORCH_CODEC_KEYS'])
      expect(orchHelp.stdout).toContain(text);
    const orchNoKeys = spawnSync(process.execPath, [cli, 'codec-server'], { encoding: 'utf8', env });
    expect(orchNoKeys.status).toBe(2);
    expect(orchNoKeys.stderr).toContain('set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE');
  });

  it('decodes payloads written under the current and the retired key, for a caller with the token', async () => {
    const [underOld] = await new EncryptionCodec(ring('old')).encode([defaultPayloadConverter.toPayload(decision)]);
    const [underNew] = await new EncryptionCodec(ring('new')).encode([defaultPayloadConverter.toPayload('momentum')]);
    const plain = defaultPayloadConverter.toPayload({ not: 'encrypted' });
    const response = await post('/decode', { payloads: [underOld, underNew, plain].map(payloadToJson) }, authorised);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { payloads: unknown[] };
    const values = body.payloads.map((p, i) => defaultPayloadConverter.fromPayload(payloadFromJson(p, i)));
    expect(values).toEqual([decision, 'momentum', { not: 'encrypted' }]);
    // Proto JSON: metadata values and data are base64.
    expect(body.payloads[2]).toEqual({
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('{"not":"encrypted"}').toString('base64'),
    });
  });

  it('encodes with the current key, and what it encodes decodes back; the path may have a prefix', async () => {
    const encoded = await post(
      '/codec/default/encode',
      { payloads: [payloadToJson(defaultPayloadConverter.toPayload(decision))] },
      authorised,
    );
    expect(encoded.status).toBe(200);
    const { payloads } = (await encoded.json()) as { payloads: unknown[] };
    const payload: Payload = payloadFromJson(payloads[0], 0);
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(payload.metadata![METADATA_KEY_ID]!).toString()).toBe('new');
    expect(Buffer.from(payload.data!).includes('evt-codec-1')).toBe(false);
    const decoded = await post('/codec/default/decode', { payloads }, authorised);
    expect(
      defaultPayloadConverter.fromPayload(
        payloadFromJson(((await decoded.json()) as { payloads: unknown[] }).payloads[0], 0),
      ),
    ).toEqual(decision);
  });

  it('answers 401 without the bearer token, or with a wrong one, and decodes nothing', async () => {
    const [secret] = await new EncryptionCodec(ring('new')).encode([defaultPayloadConverter.toPayload(decision)]);
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${TOKEN.slice(1)}x` },
      { authorization: `Basic ${TOKEN}` },
      { authorization: 'Bearer' },
    ];
    for (const headers of attempts) {
      const response = await post('/decode', { payloads: [payloadToJson(secret)] }, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.text()).not.toContain(
        Buffer.from(JSON.stringify(decision)).toString('base64').slice(0, 16),
      );
    }
  });

  it("answers the Temporal UI's CORS preflight for its origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    const allowed = await preflight(UI_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toEqual(
      expect.stringContaining('x-namespace'),
    );
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toEqual(
      expect.stringContaining('authorization'),
    );
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');

    const other = await preflight('https://evil.example.com');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    // The POST that follows carries the origin too, and its answer names it.
    const [secret] = await new EncryptionCodec(ring('new')).encode([defaultPayloadConverter.toPayload(decision)]);
    const response = await post('/decode', { payloads: [payloadToJson(secret)] }, { ...authorised, origin: UI_ORIGIN });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  });

  it('answers 400 to a body that is not Payloads JSON or a payload that does not decrypt, naming why', async () => {
    const notJson = await post('/decode', '{ nope', authorised);
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toContain('not JSON');
    const noPayloads = await post('/decode', { items: [] }, authorised);
    expect(noPayloads.status).toBe(400);
    expect(((await noPayloads.json()) as { error: string }).error).toContain('{"payloads": [...]}');

    const [secret] = await new EncryptionCodec(ring('new')).encode([defaultPayloadConverter.toPayload(decision)]);
    const tampered = Buffer.from(secret.data!);
    tampered[tampered.length - 1] ^= 1;
    const altered = await post('/decode', { payloads: [payloadToJson({ ...secret, data: tampered })] }, authorised);
    expect(altered.status).toBe(400);
    expect(((await altered.json()) as { error: string }).error).toContain('does not authenticate');

    const [unknown] = await new EncryptionCodec({
      currentKeyId: 'gone',
      keys: new Map([['gone', randomBytes(32)]]),
    }).encode([defaultPayloadConverter.toPayload(1)]);
    const missing = await post('/decode', { payloads: [payloadToJson(unknown)] }, authorised);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toContain(
      'key id "gone", which is not in the key ring (old, new)',
    );
  });

  it('refuses another namespace and anything but POST …/encode or …/decode', async () => {
    const wrongNamespace = await post('/decode', { payloads: [] }, { ...authorised, 'x-namespace': 'payments' });
    expect(wrongNamespace.status).toBe(403);
    expect(((await wrongNamespace.json()) as { error: string }).error).toContain('namespace default, not payments');
    expect((await post('/decode', { payloads: [] }, authorised)).status).toBe(200);
    expect((await fetch(`${base}/decode`, { headers: authorised })).status).toBe(405);
    expect((await post('/frobnicate', { payloads: [] }, authorised)).status).toBe(404);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  });
});
