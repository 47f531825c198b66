/** The AES-256-GCM payload codec: round trip, tamper detection, key rotation, pass-through, histories. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  decodeHistory,
  ENCODING,
  EncryptionCodec,
  isEncrypted,
  KEY_BYTES,
  keyRing,
  KeyRingError,
  METADATA_KEY_ID,
  parseKeyEntries,
  PayloadDecryptionError,
} from '../src/codec';

const newKey = (): Buffer => randomBytes(KEY_BYTES);
const ring = (current: string, keys: Record<string, Buffer>) => ({
  currentKeyId: current,
  keys: new Map(Object.entries(keys)),
});
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');

const signalPayload = (): Payload =>
  defaultPayloadConverter.toPayload({
    message_id: '7',
    signal: { agent_name: 'momentum', corr_id: 'evt-secret-42', instrument: 'BTC/USD' },
  });

describe('EncryptionCodec', () => {
  const k1 = newKey();
  const k2 = newKey();

  it('round-trips payloads, metadata included, and leaves nothing of them in clear', async () => {
    const codec = new EncryptionCodec(ring('k1', { k1 }));
    const original = [
      signalPayload(),
      defaultPayloadConverter.toPayload(undefined),
      defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3])),
    ];
    const encoded = await codec.encode(original);
    expect(encoded).toHaveLength(3);
    for (const payload of encoded) {
      expect(Object.keys(payload.metadata ?? {}).sort()).toEqual(['encoding', METADATA_KEY_ID]);
      expect(text(payload.metadata?.encoding)).toBe(ENCODING);
      expect(text(payload.metadata?.[METADATA_KEY_ID])).toBe('k1');
      expect(isEncrypted(payload)).toBe(true);
      const bytes = Buffer.from(payload.data!);
      for (const plain of ['evt-secret-42', 'momentum', 'BTC/USD', 'json/plain', 'binary/null'])
        expect(bytes.includes(plain)).toBe(false);
    }
    const decoded = await codec.decode(encoded);
    expect(
      decoded.map((p) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, text(v)])),
        data: Buffer.from(p.data ?? []),
      })),
    ).toEqual(
      original.map((p) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, text(v)])),
        data: Buffer.from(p.data ?? []),
      })),
    );
    expect(defaultPayloadConverter.fromPayload(decoded[0])).toEqual(defaultPayloadConverter.fromPayload(original[0]));
  });

  it('uses a fresh IV for every payload: the same value never encrypts the same way twice', async () => {
    const codec = new EncryptionCodec(ring('k1', { k1 }));
    const [a, b] = await codec.encode([signalPayload(), signalPayload()]);
    expect(Buffer.from(a.data!).subarray(0, 12).equals(Buffer.from(b.data!).subarray(0, 12))).toBe(false);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('detects a payload altered anywhere: IV, ciphertext or tag', async () => {
    const codec = new EncryptionCodec(ring('k1', { k1 }));
    const [encoded] = await codec.encode([signalPayload()]);
    const length = encoded.data!.length;
    for (const offset of [0, 12, Math.floor(length / 2), length - 1]) {
      const data = Buffer.from(encoded.data!);
      data[offset] ^= 0x01;
      await expect(codec.decode([{ ...encoded, data }])).rejects.toThrow(
        /key id "k1" does not authenticate: it was altered/,
      );
    }
    await expect(codec.decode([{ ...encoded, data: Buffer.from(encoded.data!).subarray(0, 20) }])).rejects.toThrow(
      PayloadDecryptionError,
    );
  });

  it('refuses a payload encrypted with another key under the same id', async () => {
    const [encoded] = await new EncryptionCodec(ring('k1', { k1 })).encode([signalPayload()]);
    await expect(new EncryptionCodec(ring('k1', { k1: k2 })).decode([encoded])).rejects.toThrow(
      /does not authenticate/,
    );
  });

  it('rotates: a new current key encrypts, payloads written under the old one still decode', async () => {
    const before = new EncryptionCodec(ring('k1', { k1 }));
    const after = new EncryptionCodec(ring('k2', { k1, k2 }));
    const [old] = await before.encode([signalPayload()]);
    const [fresh] = await after.encode([signalPayload()]);
    expect(text(fresh.metadata?.[METADATA_KEY_ID])).toBe('k2');
    const decoded = await after.decode([old, fresh]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      defaultPayloadConverter.fromPayload(signalPayload()),
      defaultPayloadConverter.fromPayload(signalPayload()),
    ]);
  });

  it('names an unknown key id and the setting to add it to', async () => {
    const [encoded] = await new EncryptionCodec(ring('retired', { retired: k1 })).encode([signalPayload()]);
    const error = await new EncryptionCodec(ring('k2', { k2 })).decode([encoded]).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toMatch(
      /key id "retired", which is not in the key ring \(k2\): add retired:<base64 key> to ORCH_CODEC_KEYS/,
    );
  });

  it('passes payloads without the encrypted encoding through decode unchanged (turning the codec on)', async () => {
    const codec = new EncryptionCodec(ring('k1', { k1 }));
    const plain = [signalPayload(), defaultPayloadConverter.toPayload(null)];
    const decoded = await codec.decode(plain);
    expect(decoded[0]).toBe(plain[0]);
    expect(decoded[1]).toBe(plain[1]);
  });

  it('decodes every payload of a history but leaves search attributes as they are', async () => {
    const codec = new EncryptionCodec(ring('k1', { k1 }));
    const input = signalPayload();
    const [encrypted] = await codec.encode([input]);
    const [memo] = await codec.encode([defaultPayloadConverter.toPayload('waiting for risk')]);
    const searchAttribute = defaultPayloadConverter.toPayload('evt-secret-42');
    const history = temporal.api.history.v1.History.create({
      events: [
        {
          workflowExecutionStartedEventAttributes: {
            input: { payloads: [encrypted] },
            memo: { fields: { explanation: memo } },
            searchAttributes: { indexedFields: { CorrelationId: searchAttribute } },
          },
        },
        {
          workflowExecutionSignaledEventAttributes: {
            signalName: 'agentSignal',
            input: { payloads: [encrypted, signalPayload()] },
          },
        },
      ],
    });
    const decoded = await decodeHistory(history, [codec]);
    const started = decoded.events![0].workflowExecutionStartedEventAttributes!;
    expect(defaultPayloadConverter.fromPayload(started.input!.payloads![0])).toEqual(
      defaultPayloadConverter.fromPayload(input),
    );
    expect(defaultPayloadConverter.fromPayload(started.memo!.fields!.explanation)).toBe('waiting for risk');
    expect(text(started.searchAttributes!.indexedFields!.CorrelationId.data)).toBe('"evt-secret-42"');
    expect(
      decoded.events![1].workflowExecutionSignaledEventAttributes!.input!.payloads!.map((p) =>
        defaultPayloadConverter.fromPayload(p),
      ),
    ).toHaveLength(2);
    // The history given is not changed; without codecs it is returned as is.
    expect(isEncrypted(history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0])).toBe(true);
    expect(await decodeHistory(history, [])).toBe(history);
  });
});

describe('key entries', () => {
  const key = newKey().toString('base64');
  const where = { keys: 'ORCH_CODEC_KEYS', keyId: 'ORCH_CODEC_KEY_ID' };

  it('reads id:base64 entries separated by commas or lines, with comments', () => {
    const keys = parseKeyEntries(
      `# rotated 2026-11\nk1:${key}\n\n k2 : ${key} # current\n,k3:${key}`,
      'ORCH_CODEC_KEYS_FILE',
    );
    expect([...keys.keys()]).toEqual(['k1', 'k2', 'k3']);
    expect(keys.get('k2')).toEqual(Buffer.from(key, 'base64'));
  });

  it.each([
    [
      'short',
      `k1:${randomBytes(16).toString('base64')}`,
      /ORCH_CODEC_KEYS: entry 1 \(key id "k1"\): an AES-256 key is 32 bytes, this one is 16/,
    ],
    ['not base64', 'k1:not*base64!', /entry 1 \(key id "k1"\): the key is not base64/],
    ['no id', key, /entry 1: expected <key id>:<base64 key>/],
    ['bad id', `bad id:${key}`, /a key id is 1 to 64 letters/],
    ['twice', `k1:${key},k1:${key}`, /entry 2 \(key id "k1"\): key id "k1" is given twice/],
    ['empty', ' , ', /ORCH_CODEC_KEYS: no key given/],
  ])('refuses a %s entry, naming the setting and never the key', (_, entries, message) => {
    const error = (() => {
      try {
        parseKeyEntries(entries, 'ORCH_CODEC_KEYS');
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(KeyRingError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(key);
  });

  it('needs the current key id when there are several keys, and it must be one of them', () => {
    const keys = parseKeyEntries(`k1:${key},k2:${key}`, 'ORCH_CODEC_KEYS');
    expect(() => keyRing(keys, undefined, where)).toThrow(
      'ORCH_CODEC_KEY_ID must name the key that encrypts new payloads: ORCH_CODEC_KEYS has 2 keys (k1, k2)',
    );
    expect(() => keyRing(keys, 'k3', where)).toThrow(
      'ORCH_CODEC_KEY_ID="k3" is not one of the keys in ORCH_CODEC_KEYS (k1, k2)',
    );
    expect(keyRing(keys, 'k2', where).currentKeyId).toBe('k2');
    expect(keyRing(parseKeyEntries(`only:${key}`, 'ORCH_CODEC_KEYS'), undefined, where).currentKeyId).toBe('only');
  });
});
