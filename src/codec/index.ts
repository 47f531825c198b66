/**
 * Payload encryption for everything that talks to Temporal: the data converter the worker, the
 * bridge and the CLI are given, and the decoding of histories read straight from Temporal (which
 * come back as stored: encrypted).
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { visit, walkGetWorkflowExecutionHistoryResponse } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { ENCODING, EncryptionCodec, isEncrypted, METADATA_KEY_ID } from './encryption-codec';
import type { KeyRing } from './keys';

export { ENCODING, EncryptionCodec, isEncrypted, METADATA_KEY_ID, PayloadDecryptionError } from './encryption-codec';
export { KEY_BYTES, type KeyRing, KeyRingError, keyRing, parseKeyEntries } from './keys';

type History = temporal.api.history.v1.IHistory;

/**
 * Why a payload cannot be read without the codec, or undefined: for the error of a reader that was
 * given an encrypted history and no keys.
 */
export function encryptedPayloadProblem(payload: Payload | null | undefined): string | undefined {
  if (!payload || !isEncrypted(payload)) return undefined;
  const keyId = payload.metadata?.[METADATA_KEY_ID];
  return (
    `it is encrypted (${ENCODING}${keyId ? `, key id ${Buffer.from(keyId).toString('utf8')}` : ''}): ` +
    'set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE to the keys the orchestrator encrypts with'
  );
}

/** The data converter with the encryption codec: give it to every client and worker of the namespace. */
export function codecDataConverter(ring: KeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(ring)] };
}

/** The payload codecs of a data converter (none without one). */
export function payloadCodecsOf(dataConverter: DataConverter | undefined): PayloadCodec[] {
  return dataConverter?.payloadCodecs ?? [];
}

/**
 * A copy of `history` with every payload decoded through `codecs` (in reverse order, as the SDK
 * decodes): what the workflow saw. Search attributes are left as they are (they are never encoded:
 * the server indexes them). Without codecs, the history itself.
 */
export async function decodeHistory(history: History, codecs: readonly PayloadCodec[]): Promise<History> {
  if (codecs.length === 0) return history;
  const copy = temporal.api.history.v1.History.decode(temporal.api.history.v1.History.encode(history).finish());
  const decodeAll = async (payloads: temporal.api.common.v1.IPayload[]) => {
    let decoded = payloads;
    for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
    return decoded;
  };
  await visit({ history: copy }, walkGetWorkflowExecutionHistoryResponse, {
    transformPayloads: decodeAll,
    transformPayload: async (payload) => (await decodeAll([payload]))[0],
    skipSearchAttributes: true,
  });
  return copy;
}
