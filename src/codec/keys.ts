/**
 * The codec's key ring: the key new payloads are encrypted with, and every key a stored payload may
 * have been encrypted with. Read from `id:base64` entries (ORCH_CODEC_KEYS, or ORCH_CODEC_KEYS_FILE:
 * one entry a line or comma-separated, `#` comments); AES-256 keys, so 32 bytes each.
 */

/** AES-256: 32-byte keys. */
export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface KeyRing {
  /** The key new payloads are encrypted with. */
  currentKeyId: string;
  /** Every key known, the current one included: payloads written under an older key still decrypt. */
  keys: ReadonlyMap<string, Buffer>;
}

/** A key entry that cannot be used; the message names the setting (`where`) and the entry, never the key. */
export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

/**
 * Parses `id:base64` entries, separated by commas or new lines; blank lines and `#` comments are
 * ignored. `where` names the setting in errors, e.g. `ORCH_CODEC_KEYS`.
 */
export function parseKeyEntries(text: string, where: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon).trim();
    const value = colon < 0 ? '' : entry.slice(colon + 1).trim();
    const which = `${where}: entry ${index + 1}${id ? ` (key id ${JSON.stringify(id)})` : ''}`;
    if (colon < 0 || !id || !value)
      throw new KeyRingError(`${which}: expected <key id>:<base64 key>, e.g. key-2026-11:$(openssl rand -base64 32)`);
    if (!KEY_ID.test(id)) throw new KeyRingError(`${which}: a key id is 1 to 64 letters, digits, '.', '_' or '-'`);
    if (keys.has(id)) throw new KeyRingError(`${which}: key id ${JSON.stringify(id)} is given twice`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) {
      throw new KeyRingError(
        `${which}: the key is not base64 (generate one with \`openssl rand -base64 ${KEY_BYTES}\`)`,
      );
    }
    const key = Buffer.from(value, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new KeyRingError(
        `${which}: an AES-256 key is ${KEY_BYTES} bytes, this one is ${key.length} (generate one with \`openssl rand -base64 ${KEY_BYTES}\`)`,
      );
    }
    keys.set(id, key);
  }
  if (keys.size === 0)
    throw new KeyRingError(`${where}: no key given; expected <key id>:<base64 key>, comma-separated`);
  return keys;
}

/**
 * The key ring from parsed entries and the current key id: `currentKeyId` is required when there is
 * more than one key (which one encrypts must be a decision, not an accident of order).
 */
export function keyRing(
  keys: Map<string, Buffer>,
  currentKeyId: string | undefined,
  where: { keys: string; keyId: string },
): KeyRing {
  if (currentKeyId === undefined) {
    if (keys.size > 1) {
      throw new KeyRingError(
        `${where.keyId} must name the key that encrypts new payloads: ${where.keys} has ${keys.size} keys (${[...keys.keys()].join(', ')})`,
      );
    }
    return { currentKeyId: [...keys.keys()][0], keys };
  }
  if (!keys.has(currentKeyId)) {
    throw new KeyRingError(
      `${where.keyId}=${JSON.stringify(currentKeyId)} is not one of the keys in ${where.keys} (${[...keys.keys()].join(', ')})`,
    );
  }
  return { currentKeyId, keys };
}
