/** The payload encryption settings, read and checked by loadConfig like every other setting. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, payloadCodecsOf } from '../src/codec';
import { ConfigError, loadConfig, settingsHelp } from '../src/config';
import { errorOf } from './support/errors';

const key = (): string => randomBytes(32).toString('base64');

function keysFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'codec-keys-')), 'keys');
  writeFileSync(file, content);
  return file;
}

describe('payload encryption settings', () => {
  it('is off when no key is set: no data converter, no codec', () => {
    const config = loadConfig({});
    expect(config.codec).toBeUndefined();
    expect(config.temporal.dataConverter).toBeUndefined();
    expect(config.codecServer).toEqual({ host: '127.0.0.1', port: 8089, token: undefined, corsOrigins: [] });
  });

  it('turns on with ORCH_CODEC_KEYS: the data converter every client and worker gets encrypts with the current key', async () => {
    const config = loadConfig({ ORCH_CODEC_KEYS: `old:${key()}, new:${key()}`, ORCH_CODEC_KEY_ID: 'new' });
    expect(config.codec?.currentKeyId).toBe('new');
    expect([...(config.codec?.keys.keys() ?? [])]).toEqual(['old', 'new']);
    const [codec] = payloadCodecsOf(config.temporal.dataConverter);
    expect(codec).toBeInstanceOf(EncryptionCodec);
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload({ corr_id: 'x' })]);
    expect(Buffer.from(encoded.metadata!['encryption-key-id']!).toString()).toBe('new');
  });

  it('reads the keys from ORCH_CODEC_KEYS_FILE, one a line with comments; one key needs no ORCH_CODEC_KEY_ID', () => {
    const config = loadConfig({
      ORCH_CODEC_KEYS_FILE: keysFile(`# the orchestrator's payload keys\nk-2026-11:${key()}\n`),
    });
    expect(config.codec?.currentKeyId).toBe('k-2026-11');
  });

  it.each([
    [
      'a key of the wrong length',
      { ORCH_CODEC_KEYS: `k1:${randomBytes(24).toString('base64')}` },
      'invalid configuration: ORCH_CODEC_KEYS: entry 1 (key id "k1"): an AES-256 key is 32 bytes, this one is 24',
    ],
    [
      'a key that is not base64',
      { ORCH_CODEC_KEYS: 'k1:%%%%' },
      'ORCH_CODEC_KEYS: entry 1 (key id "k1"): the key is not base64',
    ],
    [
      'several keys and no current one',
      { ORCH_CODEC_KEYS: `a:${key()},b:${key()}` },
      'ORCH_CODEC_KEY_ID must name the key that encrypts new payloads',
    ],
    [
      'a current key that is not there',
      { ORCH_CODEC_KEYS: `a:${key()}`, ORCH_CODEC_KEY_ID: 'b' },
      'ORCH_CODEC_KEY_ID="b" is not one of the keys in ORCH_CODEC_KEYS (a)',
    ],
    ['a key id without keys', { ORCH_CODEC_KEY_ID: 'a' }, 'ORCH_CODEC_KEY_ID is set but there are no keys'],
    [
      'both a key list and a key file',
      { ORCH_CODEC_KEYS: `a:${key()}`, ORCH_CODEC_KEYS_FILE: '/nowhere' },
      'set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE, not both',
    ],
    [
      'a key file that cannot be read',
      { ORCH_CODEC_KEYS_FILE: '/nowhere/keys' },
      'ORCH_CODEC_KEYS_FILE: cannot read /nowhere/keys',
    ],
    ['a short codec server token', { ORCH_CODEC_SERVER_TOKEN: 'short' }, 'ORCH_CODEC_SERVER_TOKEN'],
    ['a codec server port out of range', { ORCH_CODEC_SERVER_PORT: '70000' }, 'ORCH_CODEC_SERVER_PORT'],
  ])('refuses %s with a ConfigError naming the setting', (_, env, message) => {
    const error = errorOf(() => loadConfig(env));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(message);
  });

  it('names the key file in errors about its entries, and never prints a key', () => {
    const secret = randomBytes(31).toString('base64');
    const file = keysFile(`k1:${key()}\nk2:${secret}\n`);
    const error = errorOf(() => loadConfig({ ORCH_CODEC_KEYS_FILE: file }));
    expect(error.message).toContain(
      `ORCH_CODEC_KEYS_FILE (${file}): entry 2 (key id "k2"): an AES-256 key is 32 bytes, this one is 31`,
    );
    expect(error.message).not.toContain(secret);
  });

  it('reads the codec server settings', () => {
    const config = loadConfig({
      ORCH_CODEC_SERVER_HOST: '0.0.0.0',
      ORCH_CODEC_SERVER_PORT: '9090',
      ORCH_CODEC_SERVER_TOKEN: 'x'.repeat(32),
      ORCH_CODEC_CORS_ORIGINS: 'http://localhost:8233, https://temporal.example.com',
    });
    expect(config.codecServer).toEqual({
      host: '0.0.0.0',
      port: 9090,
      token: 'x'.repeat(32),
      corsOrigins: ['http://localhost:8233', 'https://temporal.example.com'],
    });
  });

  it('lists every codec setting in --help', () => {
    const help = settingsHelp();
    for (const name of [
      'ORCH_CODEC_KEYS',
      'ORCH_CODEC_KEYS_FILE',
      'ORCH_CODEC_KEY_ID',
      'ORCH_CODEC_SERVER_HOST',
      'ORCH_CODEC_SERVER_PORT',
      'ORCH_CODEC_SERVER_TOKEN',
      'ORCH_CODEC_CORS_ORIGINS',
    ]) {
      expect(help).toContain(`  ${name} `);
    }
    expect(help).toContain('(default: 8089)');
  });
});
