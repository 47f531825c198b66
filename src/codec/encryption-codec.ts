/**
 * AES-256-GCM payload encryption. Each payload (its metadata and its data) is serialized as a proto
 * Payload and encrypted whole with a random 12-byte IV, so nothing of it, not even its encoding,
 * reaches Temporal in clear. The encrypted payload says how to read it back:
 *
 *   metadata: { encoding: "binary/encrypted", "encryption-key-id": <key id> }
 *   data:     IV (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes)
 *
 * These are the metadata names of Temporal's encryption samples. A payload without the
 * `binary/encrypted` encoding passes through decode unchanged, so the codec can be turned on for a
 * running system: histories written before it still read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyRing } from './keys';

export const ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** Where a key that is missing from the ring is configured, for the error that names it. */
export interface KeySettingNames {
  keys: string;
}

const DEFAULT_SETTING_NAMES: KeySettingNames = { keys: 'ORCH_CODEC_KEYS (or ORCH_CODEC_KEYS_FILE)' };

/** A payload this codec cannot decrypt: unknown key, altered bytes, wrong key. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCODING;
}

export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly ring: KeyRing,
    private readonly settings: KeySettingNames = DEFAULT_SETTING_NAMES,
  ) {}

  /** The key id new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.ring.currentKeyId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  encrypt(payload: Payload): Payload {
    const keyId = this.ring.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.ring.keys.get(keyId)!, iv);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCODING), [METADATA_KEY_ID]: Buffer.from(keyId) },
      data,
    };
  }

  decrypt(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
    if (!keyId)
      throw new PayloadDecryptionError(
        `an encrypted payload (${ENCODING}) has no ${METADATA_KEY_ID}: it was not written by this codec`,
      );
    const key = this.ring.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `a payload is encrypted with key id ${JSON.stringify(keyId)}, which is not in the key ring (${[...this.ring.keys.keys()].join(', ')}): ` +
          `add ${keyId}:<base64 key> to ${this.settings.keys}; keep retired keys there for as long as histories encrypted with them are kept`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(
        `a payload encrypted with key id ${JSON.stringify(keyId)} is truncated (${data.length} bytes)`,
      );
    let plain: Buffer;
    try {
      const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `a payload encrypted with key id ${JSON.stringify(keyId)} does not authenticate: it was altered, or ${JSON.stringify(keyId)} is not the key it was encrypted with`,
      );
    }
    const decoded = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}
