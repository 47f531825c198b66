/**
 * `orch`, the command-line client, as people run it: the compiled entry point as a child process,
 * against a real Temporal dev server, a real nats-server and the real worker as a child process.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { StorageType } from 'nats';
import { formatDuration, parseDuration } from '../src/shared/duration';
import { correlationStateSchema } from '../src/contract/correlation-state';
import { runDemoCorrelation } from './support/demo-correlation';
import { workerProcess } from '../src/devstack/local-stack';
import { type ManagedProcess, startTemporalDevServer, type TemporalDevServer } from '../src/devstack/processes';
import { SIGNAL_SUBJECTS, SIGNALS_STREAM } from '../src/nats/streams';
import { agentSignal, workflowIdFor } from '../src/shared/correlation-api';
import { correlationWorkflow } from '../src/workflows';
import { startTestNats, type TestNats } from './support/servers';
import { envelope, momentum, uniqueCorrId } from './support/signals';
import { runOrch, type CommandRun } from './support/run-command';

/** Runs the compiled CLI; `input` goes to its stdin, which is closed either way. */
function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string | Buffer } = {},
): Promise<CommandRun> {
  return runOrch(args, options.env, { input: options.input, timeoutMs: 30_000 });
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['0s', 0],
    [' 45s ', 45_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['30', 's', '-1s', '30 s', '2d', '1e3ms', '', 'soon'])(
    'refuses %j, quoting it and the units it accepts',
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        `invalid duration "${text}": expected a number and a unit (ms, s, m or h)`,
      );
    },
  );

  it('refuses a duration longer than a timer can wait', () => {
    expect(() => parseDuration('600h')).toThrow('invalid duration "600h": at most 596h');
    expect(parseDuration('596h')).toBe(596 * 3_600_000);
  });

  it('formats durations back the way they are written', () => {
    expect([500, 1_000, 1_500, 30_000, 90_000, 120_000, 3_600_000].map(formatDuration)).toEqual([
      '500ms',
      '1s',
      '1.5s',
      '30s',
      '90s',
      '2m',
      '1h',
    ]);
  });
});

describe('orch usage', () => {
  it('explains itself and lists its commands and settings with --help', async () => {
    const run = await runCli(['--help']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    for (const text of [
      'Usage: orch <command>',
      'publish',
      'state',
      'wait',
      'Examples:',
      'TEMPORAL_ADDRESS',
      'NATS_URL',
    ])
      expect(run.stdout).toContain(text);
  });

  it.each([
    [
      'publish',
      [
        'Usage: orch publish',
        '--file',
        '--agent',
        '--corr-id',
        '--analysis',
        '--instrument',
        '--agent-version',
        '--msg-id',
        '--allow-invalid',
        'signals.enriched.',
      ],
    ],
    ['state', ['Usage: orch state <corr_id>', '--json', 'corr-<corr_id>']],
    ['wait', ['Usage: orch wait <corr_id>', '--timeout', '500ms, 30s, 2m', 'default: 60s']],
  ])('explains `orch %s` with its own --help: usage, options and an example', async (command, texts) => {
    for (const flag of ['--help', '-h']) {
      const run = await runCli([command, flag]);
      expect(run.status).toBe(0);
      for (const text of [...texts, 'Options:', `  orch ${command} `]) expect(run.stdout).toContain(text);
      expect(run.stdout).not.toContain('Usage: orch <command>');
    }
  });

  it('refuses an unknown command with the usage and exit code 2', async () => {
    const run = await runCli(['frobnicate', 'x']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error: unknown command "frobnicate"');
    expect(run.stderr).toContain('Usage: orch <command>');
  });

  it('refuses an unknown option, pointing at the command help', async () => {
    const run = await runCli(['state', 'x', '--verbose']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Unknown option '--verbose'");
    expect(run.stderr).toContain('Run `orch state --help` for usage.');
  });
});

describe('orch against real servers', () => {
  const SIGNALS = SIGNALS_STREAM;
  const workDir = mkdtempSync(join(tmpdir(), 'orch-cli-'));
  let temporal: TemporalDevServer;
  let nats: TestNats;
  let worker: ManagedProcess;
  let client: Client;
  let env: Record<string, string>;
  const taskQueue = uniqueCorrId('tq-cli');

  beforeAll(async () => {
    [temporal, nats] = await Promise.all([startTemporalDevServer({ uiPort: false }), startTestNats()]);
    env = { TEMPORAL_ADDRESS: temporal.address, NATS_URL: nats.server.url, ORCH_TASK_QUEUE: taskQueue };
    worker = workerProcess(env, join(workDir, 'worker.log'));
    await worker.start();
    client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    // The bridge creates SIGNALS in production; it is not part of this test.
    await nats.jsm.streams.add({ name: SIGNALS, subjects: [SIGNAL_SUBJECTS], storage: StorageType.File });
  });

  afterAll(async () => {
    await client?.connection.close();
    await worker?.stop();
    await Promise.all([temporal?.stop(), nats?.stop()]);
  });

  const signalCount = async (): Promise<number> => (await nats.jsm.streams.info(SIGNALS)).state.messages;

  /** The stream sequence in `published signals.enriched.x -> SIGNALS #12`. */
  function publishedSeq(run: CommandRun, subject: string): number {
    const match = new RegExp(`^published ${subject.replace(/\./g, '\\.')} -> SIGNALS #(\\d+)`).exec(run.stdout);
    if (!match) throw new Error(`unexpected output: ${run.stdout}${run.stderr}`);
    return Number(match[1]);
  }

  describe('orch publish', () => {
    it('publishes a signal built from flags, stamped now, on its agent subject', async () => {
      const corrId = uniqueCorrId('cli-flags');
      const before = new Date();
      const run = await runCli(
        [
          'publish',
          '--agent',
          'momentum',
          '--corr-id',
          corrId,
          '--instrument',
          'BTC/USD',
          '--agent-version',
          '1.2.1',
          '--msg-id',
          `m-${corrId}`,
          '--analysis',
          '{"trend_direction":"bullish","momentum_strength":0.78,"confidence":0.85}',
        ],
        { env },
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const seq = publishedSeq(run, 'signals.enriched.momentum');
      expect(run.stdout.trim()).toBe(`published signals.enriched.momentum -> SIGNALS #${seq}`);

      const stored = await nats.jsm.streams.getMessage(SIGNALS, { seq });
      expect(stored.subject).toBe('signals.enriched.momentum');
      expect(stored.header.get('Nats-Msg-Id')).toBe(`m-${corrId}`);
      const payload = stored.json<Record<string, unknown>>();
      expect(payload).toEqual({
        schema_version: '1.0.0',
        agent_name: 'momentum',
        agent_version: '1.2.1',
        corr_id: corrId,
        enriched_at: expect.any(String),
        source_signal: { instrument: 'BTC/USD' },
        analysis: { trend_direction: 'bullish', momentum_strength: 0.78, confidence: 0.85 },
      });
      const enrichedAt = Date.parse(payload.enriched_at as string);
      expect(enrichedAt).toBeGreaterThanOrEqual(before.getTime());
      expect(enrichedAt).toBeLessThanOrEqual(Date.now());
    });

    it('publishes a file byte for byte, from a path or stdin, and JetStream drops a repeated --msg-id', async () => {
      const corrId = uniqueCorrId('cli-file');
      const text = `{\n  "agent_name": "risk",\n  "corr_id": "${corrId}",\n  "analysis": { "risk_level": "medium", "overall_score": 0.6 }\n}\n`;
      const file = join(workDir, `${corrId}.json`);
      writeFileSync(file, text);

      const fromPath = await runCli(['publish', '--file', file, '--msg-id', `r-${corrId}`], { env });
      expect(fromPath.stderr).toBe('');
      expect(fromPath.status).toBe(0);
      const seq = publishedSeq(fromPath, 'signals.enriched.risk');
      const stored = await nats.jsm.streams.getMessage(SIGNALS, { seq });
      expect(stored.subject).toBe('signals.enriched.risk');
      expect(Buffer.from(stored.data).toString('utf8')).toBe(text);
      expect(stored.header.get('Nats-Msg-Id')).toBe(`r-${corrId}`);

      const count = await signalCount();
      const again = await runCli(['publish', '--file', '-', '--msg-id', `r-${corrId}`], {
        env,
        input: readFileSync(file),
      });
      expect(again.status).toBe(0);
      expect(again.stdout.trim()).toBe(
        `published signals.enriched.risk -> SIGNALS #${seq} (duplicate: JetStream already had Nats-Msg-Id r-${corrId}, so it was not stored again)`,
      );
      expect(await signalCount()).toBe(count);

      const fromStdin = await runCli(['publish', '--file', '-'], { env, input: text });
      expect(fromStdin.status).toBe(0);
      const stdinSeq = publishedSeq(fromStdin, 'signals.enriched.risk');
      expect(stdinSeq).toBeGreaterThan(seq);
      expect(Buffer.from((await nats.jsm.streams.getMessage(SIGNALS, { seq: stdinSeq })).data).toString('utf8')).toBe(
        text,
      );
    });

    it.each([
      [
        'a value out of range, from flags',
        ['--agent', 'momentum', '--corr-id', 'CORR', '--analysis', '{"confidence":1.5}'],
        undefined,
        'analysis.confidence: Too big',
      ],
      [
        'a bad agent name, from flags',
        ['--agent', 'Momentum!', '--corr-id', 'CORR', '--analysis', '{}'],
        undefined,
        'agent_name: must match [a-z0-9_-]{1,64}',
      ],
      [
        'an analysis that is not an object',
        ['--agent', 'risk', '--corr-id', 'CORR', '--analysis', '[1,2]'],
        undefined,
        'analysis: Invalid input: expected object',
      ],
      [
        'a bad corr_id, from stdin',
        ['--file', '-'],
        '{"agent_name":"risk","corr_id":"has spaces CORR","analysis":{}}',
        'corr_id: must be 1-128 characters',
      ],
      [
        'an unknown risk level, from stdin',
        ['--file', '-'],
        '{"agent_name":"risk","corr_id":"CORR","analysis":{"risk_level":"loud"}}',
        'analysis.risk_level: Invalid option',
      ],
      ['a file that is not JSON', ['--file', '-'], 'risk: medium CORR', 'not JSON'],
      [
        'a file whose agent is not --agent',
        ['--file', '-', '--agent', 'momentum'],
        '{"agent_name":"risk","corr_id":"CORR","analysis":{}}',
        'agent_name: is "risk" but --agent is "momentum"',
      ],
    ])('refuses %s, naming the field, and publishes nothing', async (_case, args, input, message) => {
      const corrId = uniqueCorrId('cli-bad');
      const count = await signalCount();
      const run = await runCli(['publish', ...args.map((a) => a.replace('CORR', corrId))], {
        env,
        input: input?.replace('CORR', corrId),
      });
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('error: invalid agent signal: ');
      expect(run.stderr).toContain(message);
      expect(await signalCount()).toBe(count);
    });

    it('refuses incomplete flags without publishing', async () => {
      const count = await signalCount();
      const run = await runCli(['publish', '--agent', 'momentum', '--analysis', '{}'], { env });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('error: missing --corr-id');
      expect(run.stderr).toContain('orch publish --help');
      expect(await signalCount()).toBe(count);
    });

    it('publishes a bad file unchecked with --allow-invalid, to exercise the DLQ', async () => {
      const corrId = uniqueCorrId('cli-invalid');
      const text = `{"agent_name":"risk","corr_id":"${corrId}","analysis":{"risk_level":"loud"}}`;
      const run = await runCli(['publish', '--file', '-', '--allow-invalid'], { env, input: text });
      expect(run.status).toBe(0);
      const seq = publishedSeq(run, 'signals.enriched.risk');
      expect(run.stdout).toContain('--allow-invalid: not a valid signal, published unchecked');
      expect(Buffer.from((await nats.jsm.streams.getMessage(SIGNALS, { seq })).data).toString('utf8')).toBe(text);

      const notJson = await runCli(['publish', '--file', '-', '--allow-invalid', '--agent', 'momentum'], {
        env,
        input: 'not json at all',
      });
      expect(notJson.status).toBe(0);
      const notJsonSeq = publishedSeq(notJson, 'signals.enriched.momentum');
      expect(Buffer.from((await nats.jsm.streams.getMessage(SIGNALS, { seq: notJsonSeq })).data).toString('utf8')).toBe(
        'not json at all',
      );
    });

    it('says the bridge has not run yet when no stream captures the subject', async () => {
      const bare = await startTestNats();
      try {
        const run = await runCli(
          ['publish', '--agent', 'momentum', '--corr-id', uniqueCorrId('cli-nostream'), '--analysis', '{}'],
          {
            env: { ...env, NATS_URL: bare.server.url },
          },
        );
        expect(run.status).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain('error: no JetStream stream captures signals.enriched.momentum');
        expect(run.stderr).toContain(
          'The SIGNALS stream is created by the bridge when it starts: the bridge has not run yet',
        );
        expect(await bare.jsm.streams.names().next()).toEqual([]);
      } finally {
        await bare.stop();
      }
    });

    it('fails fast, naming NATS_URL, when NATS is not there', async () => {
      const run = await runCli(
        ['publish', '--agent', 'momentum', '--corr-id', uniqueCorrId('cli-nonats'), '--analysis', '{}'],
        {
          env: { ...env, NATS_URL: 'nats://127.0.0.1:1' },
        },
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('error: cannot connect to NATS at nats://127.0.0.1:1 (NATS_URL)');
      expect(run.elapsedMs).toBeLessThan(10_000);
    });
  });

  describe('orch state and orch wait', () => {
    it('shows a decided correlation, as a summary and as JSON, and wait prints its decision', async () => {
      const corrId = uniqueCorrId('cli-demo');
      const decision = await runDemoCorrelation(client, taskQueue, corrId);

      const state = await runCli(['state', corrId], { env });
      expect(state.stderr).toBe('');
      expect(state.status).toBe(0);
      expect(state.stdout).toMatch(new RegExp(`^correlation +${corrId}$`, 'm'));
      expect(state.stdout).toMatch(
        new RegExp(`^workflow +corr-${corrId} \\(COMPLETED, task queue ${taskQueue}\\)$`, 'm'),
      );
      expect(state.stdout).toMatch(/^status +completed$/m);
      expect(state.stdout).toMatch(/^expected +momentum, risk$/m);
      expect(state.stdout).toMatch(/^reported +momentum, risk$/m);
      expect(state.stdout).toMatch(/^missing +none$/m);
      expect(state.stdout).toMatch(/^timeout_at +\d{4}-\d\d-\d\dT/m);
      expect(state.stdout).toMatch(/^duplicates +0$/m);
      expect(state.stdout).toMatch(/^late +0$/m);
      expect(state.stdout).toMatch(/^action +trade$/m);
      expect(state.stdout).toMatch(new RegExp(`^confidence +${decision.decision.confidence}$`, 'm'));
      expect(state.stdout).toMatch(/^route +standard$/m);

      const json = await runCli(['state', corrId, '--json'], { env });
      expect(json.status).toBe(0);
      const parsed = correlationStateSchema.parse(JSON.parse(json.stdout));
      expect(parsed).toMatchObject({
        corr_id: corrId,
        status: 'completed',
        decision: { decision: { action: 'trade' } },
      });
      expect(Object.keys(parsed.signals).sort()).toEqual(['momentum', 'risk']);

      const wait = await runCli(['wait', corrId], { env });
      expect(wait.stderr).toBe('');
      expect(wait.status).toBe(0);
      expect(JSON.parse(wait.stdout)).toEqual(decision);
    });

    it.each(['state', 'wait'])('`orch %s` of an unknown correlation exits 1 with a clear message', async (command) => {
      const corrId = uniqueCorrId('cli-unknown');
      const run = await runCli([command, corrId], { env });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim()).toBe(
        `error: no correlation "${corrId}": workflow corr-${corrId} does not exist in namespace default`,
      );
    });

    it('refuses a corr_id the contract does not allow', async () => {
      const run = await runCli(['state', 'not a valid id'], { env });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('error: invalid corr_id "not a valid id": must be 1-128 characters');
    });

    it('wait --timeout 1s gives up after about a second on a correlation still collecting; state shows what is missing', async () => {
      const corrId = uniqueCorrId('cli-collecting');
      const handle = await client.workflow.signalWithStart(correlationWorkflow, {
        workflowId: workflowIdFor(corrId),
        taskQueue,
        args: [{ corr_id: corrId }],
        signal: agentSignal,
        signalArgs: [envelope(momentum(corrId))],
      });

      const wait = await runCli(['wait', corrId, '--timeout', '1s'], { env });
      expect(wait.status).toBe(1);
      expect(wait.stdout).toBe('');
      expect(wait.stderr).toContain(`error: no decision for correlation "${corrId}" after 1s: it is still running.`);
      expect(wait.elapsedMs).toBeGreaterThanOrEqual(1_000);
      expect(wait.elapsedMs).toBeLessThan(8_000);

      const state = await runCli(['state', corrId], { env });
      expect(state.status).toBe(0);
      expect(state.stdout).toMatch(/^status +collecting$/m);
      expect(state.stdout).toMatch(/^reported +momentum$/m);
      expect(state.stdout).toMatch(/^missing +risk$/m);
      expect(state.stdout).toMatch(/^timeout_at +\S+ \(in [45]m\d\ds\)$/m);
      expect(state.stdout).toMatch(/^decision +none yet$/m);

      await handle.terminate('ended by the CLI test');
      const failed = await runCli(['wait', corrId], { env });
      expect(failed.status).toBe(1);
      expect(failed.stderr).toContain(
        `error: correlation "${corrId}" has no decision: workflow corr-${corrId} failed: ended by the CLI test`,
      );
      expect(failed.stderr).toContain('caused by TerminatedFailure: ended by the CLI test');
    });

    it('rejects a bad --timeout with exit code 2', async () => {
      const run = await runCli(['wait', 'some-id', '--timeout', '10'], { env });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('--timeout: invalid duration "10"');
    });
  });
});
