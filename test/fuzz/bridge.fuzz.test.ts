/**
 * Fuzzing the real bridge: a couple of thousand generated messages, mostly bad, published on NATS as
 * agents would, through the bridge process to a real Temporal dev server. Every bad message must be
 * in the DLQ with the reason it deserves, every acceptable one must be decided, and the bridge must
 * stay alive with its memory bounded.
 * ORCH_FUZZ_RUNS sets the number of messages; replay a run with ORCH_FUZZ_SEED=<the seed it prints>.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { MsgHdrs } from 'nats';
import { DECISIONS_STREAM, DLQ_STREAM, SIGNALS_STREAM } from '../../src/nats/streams';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { corrIdArb, type FuzzCase, fuzzCases, fuzzSettings } from './agent-messages';
import { signalSubject, WORKFLOW_ID_PREFIX } from './signal-contract';

const settings = fuzzSettings(2_000);
const MB = 1024 * 1024;
/** Generous: an idle bridge takes about 100 MB. */
const MAX_RSS_BYTES = 300 * MB;
/** What the second half of the run may add to the first half's memory; a leak per message would add far more. */
const MAX_RSS_GROWTH_BYTES = 100 * MB;

let stack: E2EStack;

beforeAll(async () => {
  console.log(`fuzz: ${settings.numRuns} messages, seed ${settings.seed} (ORCH_FUZZ_RUNS, ORCH_FUZZ_SEED)`);
  // A short timeout decides correlations whose expected agents never report within the run.
  stack = await startE2EStack({ version: 'fuzz-1', timeout_ms: 1_000 }, { ORCH_LOG_LEVEL: 'info' });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

/** The bridge's resident memory, as the kernel counts it. */
function bridgeRss(): number {
  const status = readFileSync(`/proc/${stack.bridge.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
}

/** Waits until the bridge has taken and acknowledged every message published so far. */
async function bridgeDrained(): Promise<void> {
  await waitFor(
    'the bridge to acknowledge every message',
    async () => {
      const consumers = await stack.nats.jsm.consumers.list(SIGNALS_STREAM).next();
      return consumers.every((c) => c.num_pending === 0 && c.num_ack_pending === 0) && consumers.length > 0
        ? true
        : undefined;
    },
    60_000,
  );
}

/** Every message of a stream, read in order by a throwaway consumer (faster than one request per message). */
async function readStream(stream: string): Promise<Array<{ header: MsgHdrs; data: Uint8Array }>> {
  const info = await stack.nats.jsm.streams.info(stream).catch(() => undefined);
  if (!info || info.state.messages === 0) return [];
  const consumer = await stack.nats.js.consumers.get(stream);
  const messages: Array<{ header: MsgHdrs; data: Uint8Array }> = [];
  for await (const message of await consumer.fetch({ max_messages: info.state.messages, expires: 10_000 })) {
    messages.push({ header: message.headers!, data: message.data });
    if (messages.length === info.state.messages) break;
  }
  return messages;
}

async function publishAll(cases: FuzzCase[]): Promise<Map<number, FuzzCase>> {
  const bySeq = new Map<number, FuzzCase>();
  // Published in small parallel batches: fast, without piling thousands of requests on the server.
  for (let i = 0; i < cases.length; i += 50) {
    const batch = cases.slice(i, i + 50);
    const seqs = await Promise.all(batch.map((c) => stack.nats.js.publish(c.subject, c.data).then((ack) => ack.seq)));
    seqs.forEach((seq, j) => bySeq.set(seq, batch[j]));
  }
  return bySeq;
}

describe('the bridge under fuzzing, end to end', () => {
  it('dead-letters every bad message with its reason, decides every good one, and stays alive and bounded', async () => {
    // Accepted messages each start a correlation: unique corr_ids keep them from meeting by chance.
    let next = 0;
    const uniqueCorrIds = fc
      .tuple(fc.constant(null), corrIdArb)
      .map(([, random]) => `${next++}-${random}`.slice(0, 128));
    const cases = fc.sample(fuzzCases(uniqueCorrIds).mixed, settings);
    // An agent's message that NATS carries but that no longer fits once the DLQ headers are added.
    const maxPayload = stack.nats.nc.info!.max_payload;
    cases.splice(cases.length / 2, 0, {
      kind: 'max_payload',
      subject: signalSubject('momentum'),
      data: new Uint8Array(maxPayload - 16).fill(0x20),
      expected: { outcome: 'oversize' },
    });

    const half = Math.ceil(cases.length / 2);
    const rssSamples: number[] = [];
    const sampler = setInterval(() => rssSamples.push(bridgeRss()), 250);
    const started = Date.now();
    let published: Map<number, FuzzCase>;
    let rssAfterFirstHalf: number;
    try {
      published = await publishAll(cases.slice(0, half));
      await bridgeDrained();
      rssAfterFirstHalf = bridgeRss();
      for (const [seq, c] of await publishAll(cases.slice(half))) published.set(seq, c);
      await bridgeDrained();
    } finally {
      clearInterval(sampler);
    }
    const rssAfterSecondHalf = bridgeRss();
    console.log(
      `fuzz: ${cases.length} messages handled in ${Date.now() - started} ms; bridge RSS ${(rssAfterFirstHalf / MB).toFixed(0)} MB after the first half, ${(rssAfterSecondHalf / MB).toFixed(0)} MB after the second, peak ${(Math.max(...rssSamples) / MB).toFixed(0)} MB`,
    );

    // Every bad message is in the DLQ, once, with its original bytes and the reason it deserves.
    const dlq = new Map(
      (await readStream(DLQ_STREAM)).map((entry) => [Number(entry.header.get('Orch-Original-Seq')), entry]),
    );
    const wrong: string[] = [];
    const accepted: string[] = [];
    for (const [seq, c] of published) {
      const entry = dlq.get(seq);
      if (c.expected.outcome === 'ok') {
        if (entry)
          wrong.push(
            `${c.kind} #${seq}: expected accepted, got ${entry.header.get('Orch-Dlq-Reason')}: ${entry.header.get('Orch-Dlq-Detail')}`,
          );
        else accepted.push((JSON.parse(new TextDecoder().decode(c.data)) as { corr_id: string }).corr_id);
        continue;
      }
      const reason = entry?.header.get('Orch-Dlq-Reason');
      const detail = entry?.header.get('Orch-Dlq-Detail') ?? '';
      if (reason !== c.expected.outcome || (c.expected.field !== undefined && !detail.includes(c.expected.field))) {
        wrong.push(
          `${c.kind} #${seq}: expected ${c.expected.outcome} naming ${c.expected.field ?? '-'}, got ${reason ?? 'no DLQ entry'}: ${detail}`,
        );
      } else if (Buffer.compare(Buffer.from(entry!.data), Buffer.from(c.data)) !== 0) {
        // Only a message too big to carry again with the DLQ headers may go without its body.
        const omitted =
          c.kind === 'max_payload' && entry!.data.byteLength === 0 && entry!.header.get('Orch-Dlq-Body-Omitted') !== '';
        if (!omitted) wrong.push(`${c.kind} #${seq}: the DLQ entry does not hold the original bytes`);
      }
    }
    console.log(`fuzz: ${dlq.size} dead-lettered, ${accepted.length} accepted`);
    expect(wrong).toEqual([]);
    expect(dlq.size).toBe(published.size - accepted.length);

    // Every accepted message started its correlation, and each got exactly one decision.
    await waitFor(
      `${accepted.length} decisions`,
      async () =>
        ((await stack.nats.jsm.streams.info(DECISIONS_STREAM).catch(() => undefined))?.state.messages ?? 0) >=
          accepted.length || undefined,
      60_000,
    );
    // Then until every correlation's run has closed: a run publishes its decision before it completes,
    // so DECISIONS then holds every decision there will be, a second one for a correlation included.
    const countRuns = async (status: string): Promise<number> =>
      (
        await stack.client.workflow.count(
          `WorkflowId STARTS_WITH "${WORKFLOW_ID_PREFIX}" AND ExecutionStatus ${status}`,
        )
      ).count;
    const closedRuns = await waitFor(
      `${accepted.length} correlation runs closed, none running`,
      async () => {
        const [running, closed] = await Promise.all([countRuns('= "Running"'), countRuns('!= "Running"')]);
        return running === 0 && closed >= accepted.length ? closed : undefined;
      },
      60_000,
    );
    // One run per accepted message: each has a corr_id of its own, and nothing starts a second run.
    expect(closedRuns).toBe(accepted.length);
    const decidedIds = (await readStream(DECISIONS_STREAM))
      .map((d) => (JSON.parse(new TextDecoder().decode(d.data)) as { corr_id: string }).corr_id)
      .sort();
    expect(decidedIds).toEqual([...accepted].sort());

    expect(stack.bridge.running).toBe(true);
    expect(Math.max(...rssSamples, rssAfterSecondHalf)).toBeLessThan(MAX_RSS_BYTES);
    expect(rssAfterSecondHalf - rssAfterFirstHalf).toBeLessThan(MAX_RSS_GROWTH_BYTES);
  }, 240_000);
});
