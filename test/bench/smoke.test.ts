/**
 * `npm run bench` for real, briefly: a local stack of its own, scaled out to two workers (each with
 * the bridge in its process) and a bridge of its own, ~12 s of load at a modest rate with partial
 * correlations and a short timeout, then the ceiling. Asserts correctness only, never speed: every
 * correlation decided once, and every worker and bridge took a share of the work.
 */
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledEntryPoint } from '../../src/devstack/local-stack';
import { findAll, parseXml } from './xml';

interface PhaseJson {
  summary: {
    sendErrors: number;
    sentUnits: number;
    correlations: {
      started: number;
      partial: number;
      decided: number;
      lost: number;
      duplicated: number;
      duplicateMessages: number;
      unexpected: number;
    };
    latencyMs: { complete: { count: number }; partial: { count: number } };
    dlq?: { ours: number };
    resources: Record<string, { rssMaxMb: number | null }>;
    cpuTotal: { msPerCorrelation: number | null; processes: string[] };
    engine: { dbMsPerCorrelation: number } | null;
  };
  series: Array<{ t: number; decided: number }>;
}

let benchPid: number | undefined;

function logLines(file: string): Array<Record<string, unknown> & { msg: string }> {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) => (line.startsWith('{') ? [JSON.parse(line)] : []));
}

// The bench leads its own process group, so a test that times out takes its servers down with it.
afterAll(() => {
  if (benchPid === undefined) return;
  try {
    process.kill(-benchPid, 'SIGKILL');
  } catch {
    // already gone
  }
});

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [compiledEntryPoint('bench/cli'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    benchPid = child.pid;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      benchPid = undefined;
      resolve({ code, output });
    });
  });
}

describe('npm run bench (smoke)', () => {
  it('decides every correlation exactly once, sends nothing to the DLQ, and writes result.json and the charts', async () => {
    const out = mkdtempSync(join(tmpdir(), 'orch-bench-smoke-'));
    const args = [
      '--rate',
      '900',
      '--duration',
      '12s',
      '--partial-share',
      '0.1',
      '--timeout-ms',
      '2000',
      '--settle',
      '30s',
      '--ceiling',
      '--out',
      out,
    ];
    // The workers load the run's prebuilt workflow bundle, as the image's do, instead of bundling at start.
    const { code, output } = await runBench([
      ...args,
      '--workers',
      '2',
      '--bridges',
      '1',
      '--keep-data',
      '--stack-env',
      `ORCH_WORKFLOW_BUNDLE=${WORKFLOW_BUNDLE_PATH}`,
    ]);
    if (code !== 0) throw new Error(`bench exited ${code}:\n${output}`);
    expect(output).toMatch(/\[orchestrator +5s\] .*decided/);
    expect(output).toContain('correctness: ok');
    expect(output).toContain(
      'starting 2 orchestrator workers, each with the bridge in its process, and a bridge of its own',
    );

    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
      correctness: { ok: boolean; errors: string[] };
      config: { ratePerMinute: number; agents: string[] };
      machine: { nproc: number; node: string; speedProbeMsAtStart: number; speedProbeMsAtEnd: number };
      orchestrator: PhaseJson;
      ceilingC1: PhaseJson;
      ceilingC2: PhaseJson;
      ratio: { basis: string; oursOverC1: number | null; oursOverC2: number | null };
      engine: string;
      engineShape: { kind: string; temporal: { nodes: number }; nats: { nodes: number; replicas: number } } | null;
    };
    expect(result.correctness).toMatchObject({ ok: true, errors: [] });
    expect(result.config).toMatchObject({ ratePerMinute: 900, agents: ['momentum', 'risk'] });
    expect(result.engine).toBe('dev');
    expect(result.engineShape).toMatchObject({ kind: 'dev', temporal: { nodes: 1 }, nats: { nodes: 1, replicas: 1 } });
    expect(result.machine.nproc).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(result.machine).toMatchObject({
      speedProbeMsAtStart: expect.any(Number),
      speedProbeMsAtEnd: expect.any(Number),
    });
    expect(output).toMatch(/machine speed probe: [\d.]+ ms before the run, [\d.]+ ms after it/);

    const ours = result.orchestrator.summary;
    expect(ours.correlations.started).toBeGreaterThan(50);
    expect(ours.correlations.partial).toBeGreaterThan(0);
    expect(ours.correlations).toMatchObject({
      decided: ours.correlations.started,
      lost: 0,
      duplicated: 0,
      duplicateMessages: 0,
      unexpected: 0,
    });
    expect(ours.latencyMs.complete.count + ours.latencyMs.partial.count).toBe(ours.correlations.started);
    expect(ours.sendErrors).toBe(0);
    expect(ours.dlq?.ours).toBe(0);
    for (const name of ['worker', 'worker-2', 'bridge']) expect(ours.resources[name].rssMaxMb).toBeGreaterThan(0);
    expect(ours.cpuTotal.processes).toEqual(
      expect.arrayContaining(['worker', 'worker-2', 'bridge', 'temporal', 'nats']),
    );
    expect(ours.cpuTotal.processes).not.toContain('bench');
    expect(ours.cpuTotal.msPerCorrelation).toBeGreaterThan(0);

    // Scale-out: each worker published some of the decisions, each bridge (the two in the workers'
    // processes, the one of its own) signalled some of the agents' messages, and only those in a
    // worker's process started correlations eagerly.
    const logDir = /kept the data dir (\S+) \(logs in (\S+)\)/.exec(output)![2];
    // First publishes only: a workflow task that failed after publishing (a signal came during it)
    // runs again, maybe on the other worker, and its publish is then a JetStream duplicate.
    const published = ['worker.log', 'worker-2.log'].map(
      (file) =>
        logLines(join(logDir, file)).filter((l) => l.msg === 'decision published' && l.duplicate === false).length,
    );
    expect(published.every((n) => n > 0)).toBe(true);
    expect(published[0] + published[1]).toBe(ours.correlations.started);
    const bridges = ['worker.log', 'worker-2.log', 'bridge.log'].map((file) =>
      logLines(join(logDir, file))
        .filter((l) => l.msg === 'bridge stopped')
        .at(-1)!,
    );
    expect(bridges.every((b) => (b.signalled as number) > 0)).toBe(true);
    expect(bridges.reduce((sum, b) => sum + (b.signalled as number), 0)).toBeGreaterThanOrEqual(ours.sentUnits);
    expect(bridges.map((b) => (b.startedEagerly as number) > 0)).toEqual([true, true, false]);
    rmSync(/kept the data dir (\S+)/.exec(output)![1], { recursive: true, force: true });
    expect(result.orchestrator.series.length).toBeGreaterThanOrEqual(12);
    expect(result.orchestrator.series.reduce((sum, s) => sum + s.decided, 0)).toBe(ours.correlations.started);

    for (const ceiling of [result.ceilingC1.summary, result.ceilingC2.summary]) {
      expect(ceiling.correlations.started).toBeGreaterThan(50);
      expect(ceiling.correlations).toMatchObject({
        decided: ceiling.correlations.started,
        lost: 0,
        duplicated: 0,
        unexpected: 0,
      });
      expect(ceiling.sendErrors).toBe(0);
    }
    // C2 starts the correlations ours starts, with the same share of partial ones.
    expect(result.ceilingC2.summary.correlations.partial).toBeGreaterThan(0);
    expect(result.ratio).toEqual({
      basis: expect.stringContaining('same offered load'),
      oursOverC1: expect.any(Number),
      oursOverC2: expect.any(Number),
    });
    // The engine's own database time, from its metrics, for every phase.
    for (const phase of [ours, result.ceilingC1.summary, result.ceilingC2.summary])
      expect(phase.engine?.dbMsPerCorrelation).toBeGreaterThan(0);

    for (const file of ['chart.svg', 'ceiling-c1.svg', 'ceiling-c2.svg']) {
      const svg = parseXml(readFileSync(join(out, file), 'utf8'));
      expect(svg.name).toBe('svg');
      const series = findAll(svg, (e) => e.name === 'path').map((p) => p.attributes['data-series']);
      expect(series).toEqual(expect.arrayContaining(['p95 ms', 'correlations started/s']));
      expect(series).toContain(file === 'chart.svg' ? 'decisions/s' : 'workflows/s');
    }
    expect(
      findAll(parseXml(readFileSync(join(out, 'chart.svg'), 'utf8')), (e) => e.name === 'path').map(
        (p) => p.attributes['data-series'],
      ),
    ).toEqual(expect.arrayContaining(['worker', 'bridge', 'temporal', 'nats']));
    rmSync(out, { recursive: true, force: true }); // kept when an assertion fails, to look at
  }, 240_000);
});
