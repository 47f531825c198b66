/**
 * Payload encryption end to end: the worker and bridge processes run with ORCH_CODEC_KEYS, a
 * correlation is decided through NATS, and its history, read raw from Temporal, holds none of the
 * signals' or the decision's content; read through the codec it gives them back. The operator
 * commands (replay, what-if, re-drive, state) work with the same keys, and the codec server lets
 * the temporal CLI (as the UI would) decode the history.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ENCODING, METADATA_KEY_ID } from '../../src/codec';
import { loadConfig } from '../../src/config';
import { bridgeProcess, codecServerProcess, compiledEntryPoint } from '../../src/devstack/local-stack';
import { getFreePort, type ManagedProcess } from '../../src/devstack/processes';
import { resolveTool } from '../../src/devstack/tools';
import { fetchDecodedHistory, fetchHistory } from '../../src/operations/history';
import { firstSignalPerAgent, readRecordedCorrelation } from '../../src/operations/recorded-correlation';
import { SIGNALS_STREAM } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { recoverCorrelation } from '../../src/operations/what-if/recover';
import { storedDecisions } from '../support/decisions';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';
import { runCommand, type CommandRun } from '../support/run-command';

const TIMEOUT_MS = 3_000;
/** The bridge's durable consumer (the default of ORCH_BRIDGE_DURABLE). */
const DURABLE = 'orchestrator-bridge';
const INSTRUMENT = 'XPT/CHF';
const workDir = mkdtempSync(join(tmpdir(), 'orch-codec-e2e-'));
const TOKEN = randomBytes(24).toString('hex');
const codecEnv = {
  ORCH_CODEC_KEYS: `retired:${randomBytes(32).toString('base64')},current:${randomBytes(32).toString('base64')}`,
  ORCH_CODEC_KEY_ID: 'current',
};
let stack: E2EStack;
let env: Record<string, string>;
/** A client with the codec, as the CLI and the bridge have. */
let codecClient: Client;

/** The compiled CLI with the stack's settings and the keys (unless `withKeys` is false). */
function orch(args: string[], withKeys = true): Promise<CommandRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => !e[0].startsWith('ORCH_CODEC') && e[1] !== undefined,
    ),
  );
  return runCommand(process.execPath, [compiledEntryPoint('client/cli'), ...args], {
    env: { ...base, ...env, ...(withKeys ? codecEnv : {}) },
  });
}

/** Every Payload in a proto message, found by its shape (not by the SDK's visitor), with where it is. */
function payloadsIn(
  value: unknown,
  path: string[] = [],
  found: Array<{ path: string; payload: Payload }> = [],
): Array<{ path: string; payload: Payload }> {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  if (Array.isArray(value)) {
    value.forEach((item, i) => payloadsIn(item, [...path, String(i)], found));
    return found;
  }
  const message = value as Record<string, unknown>;
  const metadata = message.metadata as Record<string, unknown> | undefined;
  if (
    metadata &&
    typeof metadata === 'object' &&
    Object.keys(metadata).length > 0 &&
    Object.values(metadata).every((v) => v instanceof Uint8Array)
  ) {
    found.push({ path: path.join('.'), payload: message as Payload });
    return found;
  }
  for (const [key, child] of Object.entries(message)) payloadsIn(child, [...path, key], found);
  return found;
}

/** The history exactly as Temporal stores it: the raw service call, no data converter. */
async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistory> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return temporal.api.history.v1.History.create({ events });
}

/** The payload data in `temporal workflow show -o json` output (base64 in proto JSON), decoded and joined. */
const payloadText = (json: string): string =>
  [...json.matchAll(/"data": "([A-Za-z0-9+/=]*)"/g)]
    .map((m) => Buffer.from(m[1], 'base64').toString('utf8'))
    .join('\n');
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');
const isSearchAttribute = (path: string): boolean => /searchAttributes|SearchAttributes/.test(path);

/** A correlation decided end to end with a marker in both signals only the agents and the decision know. */
async function decidedCorrelation(marker: string): Promise<string> {
  const corrId = uniqueCorrId('codec');
  const source_signal = { instrument: INSTRUMENT };
  await stack.publish(
    'momentum',
    momentum(
      corrId,
      { trend_direction: 'bullish', momentum_strength: 0.78, confidence: 0.85, desk_note: marker },
      { source_signal },
    ),
  );
  await stack.publish(
    'risk',
    risk(
      corrId,
      { risk_level: 'medium', overall_score: 0.65, position_sizing: { recommended_size: 12_345 }, desk_note: marker },
      { source_signal },
    ),
  );
  await stack.decisionsFor(corrId);
  return corrId;
}

beforeAll(async () => {
  stack = await startE2EStack({ version: 'codec-1', timeout_ms: TIMEOUT_MS }, codecEnv);
  env = { TEMPORAL_ADDRESS: stack.temporalAddress, NATS_URL: stack.natsUrl };
  codecClient = new Client({
    connection: stack.client.connection,
    dataConverter: loadConfig({ ...env, ...codecEnv }).temporal.dataConverter,
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a correlation decided with payload encryption on', () => {
  const marker = `desk-note-${randomBytes(6).toString('hex')}`;
  let corrId: string;

  beforeAll(async () => {
    corrId = await decidedCorrelation(marker);
  });

  it('leaves none of the signals or the decision in clear in the history Temporal stores', async () => {
    const history = await rawHistory(workflowIdFor(corrId));
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    // Nowhere in the stored history: the analyses, the decision, the policy, the summaries. (Memo
    // field names, like expected_agents, are map keys: visible, their values are not.)
    for (const plain of [
      marker,
      'trend_direction',
      'recommended_size',
      'position_sizing',
      'high_momentum',
      '"confidence"',
      'contributing_agents',
      'partial-data timeout',
      'waiting for',
    ]) {
      expect({ plain, found: bytes.includes(plain) }).toEqual({ plain, found: false });
    }
    const payloads = payloadsIn(history);
    // Core writes the bookkeeping of its markers itself, past the codec: the patch id of a patch
    // marker, the activity type and times of a local-activity marker. Their results are the
    // workflow's, encrypted. This run has one marker, its decideAndPublish, and no patch.
    const coreMarkers = payloads.filter((p) =>
      /markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(p.path),
    );
    expect(coreMarkers.map((p) => p.path)).toEqual(['events.4.markerRecordedEventAttributes.details.data.payloads.0']);
    for (const { path, payload } of coreMarkers) {
      for (const plain of [corrId, 'momentum', 'risk', INSTRUMENT, marker])
        expect({ path, plain, found: text(payload.data).includes(plain) }).toEqual({ path, plain, found: false });
    }
    const encrypted = payloads.filter((p) => !isSearchAttribute(p.path) && !coreMarkers.includes(p));
    // Everything the workflow and its clients wrote: the input (with both signals), the memo, the
    // summaries, the local activity's result and the workflow's.
    expect(encrypted.map((p) => p.path).sort()).toEqual([
      'events.0.userMetadata.summary',
      'events.0.workflowExecutionStartedEventAttributes.input.payloads.0',
      'events.0.workflowExecutionStartedEventAttributes.memo.fields.expected_agents',
      'events.0.workflowExecutionStartedEventAttributes.memo.fields.summary',
      'events.0.workflowExecutionStartedEventAttributes.memo.fields.timeout_ms',
      'events.4.markerRecordedEventAttributes.details.result.payloads.0',
      'events.4.userMetadata.summary',
      'events.6.workflowExecutionCompletedEventAttributes.result.payloads.0',
    ]);
    for (const { path, payload } of encrypted) {
      expect({
        path,
        encoding: text(payload.metadata?.encoding),
        key: text(payload.metadata?.[METADATA_KEY_ID]),
      }).toEqual({ path, encoding: ENCODING, key: 'current' });
      const data = Buffer.from(payload.data ?? []);
      for (const plain of [corrId, 'momentum', 'risk', INSTRUMENT, marker, 'json/plain'])
        expect({ path, plain, found: data.includes(plain) }).toEqual({ path, plain, found: false });
    }
    // Search attributes are the server's index, never encrypted: the correlation id and the
    // instrument are there in clear, by design (docs/SECURITY.md says so).
    const indexed = payloads.filter((p) => isSearchAttribute(p.path)).map((p) => text(p.payload.data));
    expect(indexed.join(' ')).toContain(corrId);
    expect(indexed.join(' ')).toContain(INSTRUMENT);
    expect(indexed.join(' ')).not.toContain(marker);
  });

  it('gives the signals and the decision back through the codec, and only through it', async () => {
    const [published] = await storedDecisions(stack.nats.jsm, corrId);
    const history = await fetchDecodedHistory(codecClient, workflowIdFor(corrId));
    const recorded = firstSignalPerAgent(readRecordedCorrelation(history, corrId));
    expect(recorded.map((s) => [s.signal.agent_name, s.signal.analysis.desk_note])).toEqual([
      ['momentum', marker],
      ['risk', marker],
    ]);
    const recovered = recoverCorrelation(history, corrId);
    expect(recovered.decision).toEqual(published.decision);
    expect(await codecClient.workflow.getHandle(workflowIdFor(corrId)).result()).toEqual(published.decision);
    // Without the codec the payloads cannot be read.
    await expect(stack.client.workflow.getHandle(workflowIdFor(corrId)).result()).rejects.toThrow(/binary\/encrypted/);
    const raw = await fetchHistory(stack.client, workflowIdFor(corrId));
    expect(() => readRecordedCorrelation(raw, corrId)).toThrow(
      `${corrId}: cannot decode the workflow input: it is encrypted (binary/encrypted, key id current): set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE`,
    );
    expect(() => recoverCorrelation(raw, corrId)).toThrow(
      `${corrId}: cannot decode the workflow input: it is encrypted`,
    );
  });

  it('answers `orch state` and replays with `orch replay`, live and from an exported file, with the keys', async () => {
    const state = await orch(['state', corrId, '--json']);
    expect(state.stderr).toBe('');
    expect(JSON.parse(state.stdout)).toMatchObject({
      corr_id: corrId,
      status: 'completed',
      signals: { momentum: { analysis: { desk_note: marker } } },
    });

    const file = join(workDir, `${corrId}.json`);
    const replay = await orch(['replay', corrId, '--export', file]);
    expect(replay.stderr).toBe('');
    expect(replay.status).toBe(0);
    expect(replay.stdout).toMatch(new RegExp(`OK +${workflowIdFor(corrId)} \\(run .*\\): \\d+ events replayed`));
    // The export is the history as stored: encrypted.
    expect(readFileSync(file, 'utf8')).not.toContain(Buffer.from(marker).toString('base64').slice(0, 12));
    expect(readFileSync(file, 'utf8')).toContain(Buffer.from(ENCODING).toString('base64'));

    const fromFile = await orch(['replay', '--file', file]);
    expect(fromFile.status).toBe(0);
    expect(fromFile.stdout).toContain('events replayed');
    const withoutKeys = await orch(['replay', '--file', file], false);
    expect(withoutKeys.status).toBe(1);
    expect(withoutKeys.stdout).toContain('FAILED');
    expect(withoutKeys.stdout).toContain('The history is encrypted: set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE');
  }, 120_000);

  it('runs `orch what-if` on encrypted histories with the keys, and says what is missing without them', async () => {
    const policy = join(workDir, 'policy-v2.json');
    writeFileSync(policy, JSON.stringify({ version: 'codec-2', thresholds: { trade_min_confidence: 0.99 } }));
    const query = `CorrelationId = "${corrId}"`;
    const whatIf = await orch([
      'what-if',
      '--policy',
      policy,
      '--query',
      query,
      '--json-out',
      join(workDir, 'what-if.json'),
    ]);
    expect(whatIf.stderr).toBe('');
    expect(whatIf.status).toBe(0);
    const report = JSON.parse(readFileSync(join(workDir, 'what-if.json'), 'utf8')) as {
      correlations: Array<{ corr_id: string }>;
      skipped: unknown[];
    };
    expect(report.correlations.map((c) => c.corr_id)).toEqual([corrId]);
    expect(report.skipped).toEqual([]);

    // Its own export of the history (as stored: encrypted), not the file another test wrote.
    const exported = join(workDir, `${corrId}-what-if.json`);
    const exporting = await orch(['replay', corrId, '--export', exported]);
    expect({ status: exporting.status, stderr: exporting.stderr }).toEqual({ status: 0, stderr: '' });
    const fromFile = await orch([
      'what-if',
      '--policy',
      policy,
      '--history',
      exported,
      '--json-out',
      join(workDir, 'what-if-file.json'),
    ]);
    expect(fromFile.status).toBe(0);
    expect(
      (JSON.parse(readFileSync(join(workDir, 'what-if-file.json'), 'utf8')) as { correlations: unknown[] })
        .correlations,
    ).toHaveLength(1);

    const withoutKeys = await orch(['what-if', '--policy', policy, '--history', exported], false);
    expect(withoutKeys.status).toBe(2);
    expect(withoutKeys.stderr).toContain(
      'encrypted (binary/encrypted, key id current): set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE',
    );
  }, 120_000);

  it('lets the temporal CLI decode the history through the codec server, with the token only', async () => {
    const port = await getFreePort();
    const server: ManagedProcess = codecServerProcess(
      { ...env, ...codecEnv, ORCH_CODEC_SERVER_PORT: String(port), ORCH_CODEC_SERVER_TOKEN: TOKEN },
      join(workDir, 'codec-server.log'),
    );
    await server.start();
    try {
      const temporalCli = resolveTool('temporal')!;
      const show = (extra: string[]) =>
        runCommand(temporalCli, [
          'workflow',
          'show',
          '--address',
          stack.temporalAddress,
          '--workflow-id',
          workflowIdFor(corrId),
          '--output',
          'json',
          ...extra,
        ]);
      const endpoint = `http://127.0.0.1:${port}`;
      const decoded = await show(['--codec-endpoint', endpoint, '--codec-auth', `Bearer ${TOKEN}`]);
      expect(decoded.stderr).toBe('');
      expect(decoded.status).toBe(0);
      expect(payloadText(decoded.stdout)).toContain(marker);
      expect(decoded.stdout).toContain(Buffer.from('json/plain').toString('base64'));
      const plain = await show([]);
      expect(plain.status).toBe(0);
      expect(payloadText(plain.stdout)).not.toContain(marker);
      // Without the token the codec server answers 401 to the CLI's decode request; the CLI gives up
      // on the history at its 10-second deadline: exit 1, nothing on stdout, this one error.
      const logFile = join(workDir, 'codec-server.log');
      const logged = readFileSync(logFile, 'utf8').length;
      const refused = await show(['--codec-endpoint', endpoint]);
      expect({
        status: refused.status,
        stdout: refused.stdout,
        stderr: refused.stderr.replace(/^time=\S+ /gm, ''),
      }).toEqual({
        status: 1,
        stdout: '',
        stderr: 'level=ERROR msg="failed getting next history event: context deadline exceeded"\n',
      });
      // What the codec server logged meanwhile: only refusals of /decode.
      const served = readFileSync(logFile, 'utf8')
        .slice(logged)
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { path?: string; msg: string });
      expect(served.length).toBeGreaterThan(0);
      expect(served.map(({ path, msg }) => ({ path, msg }))).toEqual(
        served.map(() => ({ path: '/decode', msg: 'codec server: refused a request without the bearer token' })),
      );
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe('re-driving with payload encryption on', () => {
  it('re-drives a timed-out correlation from its encrypted history; the worker decides on the recorded signals', async () => {
    const corrId = uniqueCorrId('codec-redrive');
    await stack.publish('momentum', momentum(corrId, undefined, { source_signal: { instrument: INSTRUMENT } }));
    // Risk never reports: the timer fires and the correlation closes as timed out.
    const [first] = await stack.decisionsFor(corrId);
    // Momentum alone, short of the default threshold of both agents: insufficient data.
    expect(first.decision).toMatchObject({
      decision: { action: 'insufficient_data', confidence: 0, reasoning: 'insufficient_data' },
      available_agents: ['momentum'],
      missing_agents: ['risk'],
      partial_data: true,
    });
    await waitFor('the timed-out correlation to be visible', async () =>
      (await codecClient.workflow.count(`CorrelationId = "${corrId}" AND CorrelationStatus = "timed_out"`)).count > 0
        ? true
        : undefined,
    );

    const redrive = await orch([
      'redrive',
      '--query',
      `CorrelationId = "${corrId}"`,
      '--status',
      'timed_out',
      '--json',
    ]);
    expect(redrive.stderr).toBe('');
    expect(redrive.status).toBe(0);
    const plan = JSON.parse(redrive.stdout) as {
      correlations: Array<{ signals: Array<{ agent: string }>; new_workflow_id: string }>;
      summary: { started: number };
    };
    expect(plan.summary.started).toBe(1);
    expect(plan.correlations[0].signals.map((s) => s.agent)).toEqual(['momentum']);
    const decisions = await waitFor('the re-drive decision', async () => {
      const all = await storedDecisions(stack.nats.jsm, corrId);
      return all.length >= 2 ? all : undefined;
    });
    expect(decisions[1].decision).toMatchObject({
      corr_id: corrId,
      redrive_of: { workflow_id: workflowIdFor(corrId) },
    });
    // The re-drive's input, written by the CLI, is encrypted too.
    const started = (await rawHistory(plan.correlations[0].new_workflow_id)).events![0]
      .workflowExecutionStartedEventAttributes!;
    expect(text(started.input!.payloads![0].metadata!.encoding)).toBe(ENCODING);
    expect(
      defaultPayloadConverter.fromPayload(
        (await fetchDecodedHistory(codecClient, plan.correlations[0].new_workflow_id)).events![0]
          .workflowExecutionStartedEventAttributes!.input!.payloads![0],
      ),
    ).toMatchObject({ corr_id: corrId });
  }, 120_000);
});

describe('a closed correlation whose history the bridge cannot read', () => {
  it('keeps its redelivered messages in JetStream, never calls them late, and settles them once it can read it', async () => {
    const corrId = await decidedCorrelation(`desk-note-${randomBytes(6).toString('hex')}`);
    const seqs = (await storedDecisions(stack.nats.jsm, corrId))[0].decision.provenance.map((p) => p.message_id);
    const idle = async (): Promise<true | undefined> => {
      const info = await stack.nats.jsm.consumers.info(SIGNALS_STREAM, DURABLE).catch(() => undefined);
      return info && info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
    };
    await waitFor('the bridge to settle the correlation', idle);
    const dlqOf = async (): Promise<string[]> =>
      (await stack.dlqEntries()).map((e) => e.header.get('Orch-Original-Seq')).filter((seq) => seqs.includes(seq));

    // A bridge whose keys cannot open this history (as after a botched key rotation), and every
    // message of SIGNALS delivered again (the consumer deleted and re-created).
    await stack.bridge.stop();
    const wrongKeys = bridgeProcess(
      {
        ...env,
        ORCH_POLICY_FILE: join(stack.logDir, 'policy.json'),
        ORCH_CODEC_KEYS: `other:${randomBytes(32).toString('base64')}`,
        ORCH_CODEC_KEY_ID: 'other',
      },
      join(workDir, 'bridge-wrong-keys.log'),
    );
    await wrongKeys.start();
    try {
      await stack.nats.jsm.consumers.delete(SIGNALS_STREAM, DURABLE);
      await waitFor(
        'the redelivered messages to be retried',
        async () => {
          const info = await stack.nats.jsm.consumers.info(SIGNALS_STREAM, DURABLE).catch(() => undefined);
          return info && info.num_redelivered > 0 ? true : undefined;
        },
        90_000,
      );
      expect(await dlqOf()).toEqual([]);
    } finally {
      await wrongKeys.stop();
    }
    // With the keys back, the messages are what they are: duplicates of the ones the run used.
    await stack.bridge.start();
    await waitFor('the bridge to settle the redelivered messages', idle, 60_000);
    expect(await dlqOf()).toEqual([]);
  }, 240_000);
});
