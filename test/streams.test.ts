/**
 * The streams are declared by configuration and kept to it on a real nats-server: created when
 * missing, brought to the configured limits when found otherwise (each change returned, for the
 * log), refused with what to do when JetStream cannot change them in place.
 */
import { DiscardPolicy, nanos, RetentionPolicy, StorageType } from 'nats';
import { DEFAULT_STREAMS } from '../src/config';
import {
  declareDecisionsStream,
  declareDlqStream,
  declareSignalsStream,
  DECISIONS_STREAM,
  DLQ_STREAM,
  reconcileStream,
  SIGNALS_STREAM,
  type StreamsSettings,
} from '../src/nats/streams';
import { startTestNats, type TestNats } from './support/servers';

const HOUR_MS = 3_600_000;
let nats: TestNats;

beforeAll(async () => {
  nats = await startTestNats();
});

afterAll(async () => {
  await nats?.stop();
});

afterEach(async () => {
  for (const name of [SIGNALS_STREAM, DLQ_STREAM, DECISIONS_STREAM])
    await nats.jsm.streams.delete(name).catch(() => undefined);
});

const settings: StreamsSettings = {
  signals: { replicas: 1, maxAgeMs: 6 * HOUR_MS, maxBytes: 10_000_000, discard: 'new' },
  dlq: { replicas: 1, maxAgeMs: 48 * HOUR_MS, maxBytes: 1_000_000, discard: 'new' },
  decisions: { replicas: 1, maxAgeMs: 24 * HOUR_MS, maxBytes: 20_000_000, discard: 'old', dedupeWindowMs: 2 * HOUR_MS },
};

describe('reconcileStream', () => {
  it('creates each stream as declared: file storage, its limits, discard policy and replicas', async () => {
    for (const stream of [
      declareSignalsStream(settings),
      declareDlqStream(settings),
      declareDecisionsStream(settings),
    ]) {
      expect(await reconcileStream(nats.jsm, stream)).toEqual([]);
    }
    expect((await nats.jsm.streams.info(SIGNALS_STREAM)).config).toMatchObject({
      subjects: ['signals.enriched.>'],
      storage: StorageType.File,
      num_replicas: 1,
      max_age: nanos(6 * HOUR_MS),
      max_bytes: 10_000_000,
      discard: DiscardPolicy.New,
    });
    expect((await nats.jsm.streams.info(DLQ_STREAM)).config).toMatchObject({
      subjects: ['signals.dlq'],
      max_age: nanos(48 * HOUR_MS),
      max_bytes: 1_000_000,
    });
    expect((await nats.jsm.streams.info(DECISIONS_STREAM)).config).toMatchObject({
      subjects: ['orchestrated.decision'],
      max_age: nanos(24 * HOUR_MS),
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(2 * HOUR_MS),
    });
  });

  it('brings a stream created without limits to the declared ones and says what it changed', async () => {
    // As every earlier version created it: no age or size limit, JetStream's 2-minute duplicate window.
    await nats.jsm.streams.add({
      name: DECISIONS_STREAM,
      subjects: ['orchestrated.decision'],
      storage: StorageType.File,
    });
    const changes = await reconcileStream(nats.jsm, declareDecisionsStream(settings));
    expect(changes).toEqual([
      { stream: DECISIONS_STREAM, setting: 'max_age', was: '0 (no limit)', now: `${24 * HOUR_MS} ms` },
      { stream: DECISIONS_STREAM, setting: 'max_bytes', was: '-1 (no limit)', now: '20000000 bytes' },
      { stream: DECISIONS_STREAM, setting: 'duplicate_window', was: '120000 ms', now: `${2 * HOUR_MS} ms` },
    ]);
    expect((await nats.jsm.streams.info(DECISIONS_STREAM)).config).toMatchObject({
      max_age: nanos(24 * HOUR_MS),
      max_bytes: 20_000_000,
      duplicate_window: nanos(2 * HOUR_MS),
    });
    expect(await reconcileStream(nats.jsm, declareDecisionsStream(settings))).toEqual([]);
  });

  it("keeps the subjects an operator added, and adds the contract's subject when it is missing", async () => {
    await nats.jsm.streams.add({
      name: SIGNALS_STREAM,
      subjects: ['signals.legacy.>'],
      storage: StorageType.File,
      ...limitsOf(declareSignalsStream(settings)),
    });
    const changes = await reconcileStream(nats.jsm, declareSignalsStream(settings));
    expect(changes).toEqual([
      {
        stream: SIGNALS_STREAM,
        setting: 'subjects',
        was: 'signals.legacy.>',
        now: 'signals.legacy.>, signals.enriched.>',
      },
    ]);
    expect((await nats.jsm.streams.info(SIGNALS_STREAM)).config.subjects).toEqual([
      'signals.legacy.>',
      'signals.enriched.>',
    ]);
  });

  it('refuses a stream on memory storage, which JetStream cannot move to file in place, saying what to do', async () => {
    await nats.jsm.streams.add({ name: DLQ_STREAM, subjects: ['signals.dlq'], storage: StorageType.Memory });
    await expect(reconcileStream(nats.jsm, declareDlqStream(settings))).rejects.toThrow(
      `stream ${DLQ_STREAM} is on memory storage, but the orchestrator keeps it on file storage so that nothing is lost when nats-server restarts; ` +
        `JetStream cannot change storage in place: back it up and re-create it (nats stream backup ${DLQ_STREAM}, nats stream rm ${DLQ_STREAM}), then start again`,
    );
  });

  it('refuses a stream that deletes messages once read (work-queue retention)', async () => {
    await nats.jsm.streams.add({
      name: SIGNALS_STREAM,
      subjects: ['signals.enriched.>'],
      storage: StorageType.File,
      retention: RetentionPolicy.Workqueue,
    });
    await expect(reconcileStream(nats.jsm, declareSignalsStream(settings))).rejects.toThrow(
      /stream SIGNALS has workqueue retention, but the orchestrator needs limits retention/,
    );
  });

  it('declares the defaults the processes run with when nothing is configured', () => {
    expect(declareDecisionsStream(DEFAULT_STREAMS)).toEqual({
      name: DECISIONS_STREAM,
      subjects: ['orchestrated.decision'],
      storage: StorageType.File,
      num_replicas: 1,
      max_age: nanos(7 * 24 * HOUR_MS),
      max_bytes: 1024 ** 3,
      discard: DiscardPolicy.New,
      duplicate_window: nanos(2 * HOUR_MS),
    });
    expect(declareSignalsStream(DEFAULT_STREAMS)).toMatchObject({
      max_age: nanos(12 * HOUR_MS),
      max_bytes: 1024 ** 3,
      discard: DiscardPolicy.New,
    });
  });
});

function limitsOf(stream: ReturnType<typeof declareSignalsStream>) {
  return {
    num_replicas: stream.num_replicas,
    max_age: stream.max_age,
    max_bytes: stream.max_bytes,
    discard: stream.discard,
  };
}
