/** The command line of `npm run bench`: parsing and validation, with errors that name the option. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type EngineKind, MAX_COPIES } from '../devstack/local-stack';
import { parseDuration } from '../shared/duration';
import { ConfigError, DEFAULT_POLICY } from '../config';

export type Target = 'local' | 'external';

export interface BenchOptions {
  /** Offered load, in agent signals per minute (the first step's rate with findCapacity). */
  ratePerMinute: number;
  durationMs: number;
  /** Agents that report on each correlation, in publishing order. */
  agents: string[];
  /** Share of correlations whose last agent never reports; they decide at the policy timeout. */
  partialShare: number;
  /** Each agent after a correlation's first reports after a delay uniform in [0, this] (ms); 0: all together. */
  agentSpreadMs: number;
  /** Partial-data timeout of the policy the local stack runs with. */
  timeoutMs: number;
  target: Target;
  outDir: string;
  findCapacity: boolean;
  stepDurationMs: number;
  stepFactor: number;
  maxSteps: number;
  p95BoundMs: number;
  ceiling: boolean;
  settleMs: number;
  /** Publishes (or signal-with-starts) waiting for their acknowledgement at once. */
  maxInFlight: number;
  /** Processes to sample on an external target, by name. */
  pids: Record<string, number>;
  /** Extra settings for the local stack's worker and bridge. */
  stackEnv: Record<string, string>;
  /** Local target: `dev` (the CLI's dev server, one nats-server) or `cluster` (the production shape). */
  engine: EngineKind;
  /** Local dev engine: the dev server's dynamic configuration and SQLite pragmas, on top of the stack's own. */
  devServer: {
    dynamicConfig: Record<string, string>;
    sqlitePragmas: Record<string, string>;
    env: Record<string, string>;
  };
  /**
   * Local stack: workers on the task queue (each running the bridge, by default) and bridges of their own (scale-out).
   */
  workers: number;
  bridges: number;
  keepData: boolean;
  /** Local target: the worker and the bridge write V8 CPU profiles (one per thread) to <out>/profiles. */
  profile: boolean;
  runId: string;
}

export const USAGE = `
Usage: npm run bench [-- [options]]

Drives load through NATS exactly as agents do (one JetStream publish per agent signal on
signals.enriched.<agent>), measures first-signal-to-decision latency on orchestrated.decision, lost
and duplicated decisions, DLQ entries, CPU and RSS of the processes, and writes result.json and
chart.svg. With --ceiling it then runs the same load against a minimal workflow on the same
Temporal server (signal-with-start, complete) and reports our rate over that ceiling.

Options:
  --rate N               offered load, agent signals per minute (default: 5000)
  --duration D           how long to publish, e.g. 60s, 30m (default: 60s)
  --agents A,B           agents reporting on each correlation (default: ${DEFAULT_POLICY.expected_agents.join(',')})
  --partial-share X      share of correlations whose last agent never reports; they decide at the
                         policy timeout (default: 0.1)
  --agent-spread D       how far apart a correlation's agents report: the first at once, each other
                         one after a delay drawn uniformly from 0 to D, e.g. 2s (default: 0, all
                         together)
  --timeout-ms N         partial-data timeout of the policy the local stack runs with (default: 5000)
  --target T             local: start Temporal, NATS, the worker and the bridge in a fresh temp data
                         dir; external: use TEMPORAL_ADDRESS / NATS_URL and the worker and bridge
                         already running there (default: local)
  --engine E             local target: dev (the Temporal CLI's dev server on SQLite, one nats-server)
                         or cluster (PostgreSQL, two Temporal server nodes, a three-node NATS
                         cluster with R3 streams: npm start -- --engine cluster; each node is
                         sampled, PostgreSQL with all its backends, and the database time is
                         every node's) (default: dev)
  --out DIR              where result.json and chart.svg go (default: .cache/bench/<timestamp>)
  --find-capacity        raise the rate by --step-factor every --step-duration until p95 passes
                         --p95-bound or the decisions fall behind; report the highest sustainable rate
  --step-duration D      length of one capacity step (default: 60s)
  --step-factor X        rate multiplier between capacity steps (default: 1.5)
  --max-steps N          most capacity steps (default: 20)
  --p95-bound D          latency bound of a sustainable step (default: 1s)
  --ceiling              then measure the engine's ceilings on the same engine at the same load:
                         C1, bare workflows (signal-with-start, complete), and C2, a bare fan-in
                         (the bridge's signal-with-starts, wait for all, one no-op local activity)
  --settle D             after the last publish, how long to wait for the last decisions (default: 30s)
  --max-in-flight N      publishes awaiting their ack at once; a slow server shows as lag (default: 256)
  --pids name=PID,...    external target: processes to sample, e.g. worker=123,bridge=456
  --stack-env K=V        local target: a setting for the worker and bridge (repeatable), e.g.
                         --stack-env ORCH_BRIDGE_CONCURRENCY=64
  --dynamic-config K=V   local target: a dynamic configuration value for the Temporal dev server
                         (repeatable; a JSON value), e.g. --dynamic-config history.hostLevelCacheMaxSize=32768
  --sqlite-pragma K=V    local target: a SQLite pragma for the dev server's database file
                         (repeatable), e.g. --sqlite-pragma cache_size=-262144
  --temporal-env K=V     local target: an environment variable for the dev server (repeatable),
                         e.g. --temporal-env GOGC=200
  --workers N            local target: orchestrator workers sharing the task queue, each running
                         the bridge in its process (default: 1)
  --bridges N            local target: bridges of their own on the same durable consumer
                         (default: 0; with --stack-env ORCH_WORKER_RUNS_BRIDGE=false, the only ones)
  --keep-data            local target: keep the temp data dir (logs, SQLite, JetStream store)
  --profile              local target: run the worker and the bridge under node --cpu-prof; the
                         profiles (one per thread: the worker's workflow thread is its own) go to
                         <out>/profiles; read them with node scripts/cpu-profile-top.js. The
                         profiler slows both processes: not for figures
  --run-id ID            correlation ids are bench-<run-id>-<n> (default: random)

Durations take a unit (ms, s, m, h); a bare number is seconds.

Examples:
  npm run bench -- --rate 5000 --duration 60s --ceiling
  npm run bench -- --find-capacity --rate 3000 --step-duration 30s --p95-bound 1s --ceiling
  npm run bench -- --rate 5000 --duration 60s --agent-spread 2s --ceiling
  npm run bench -- --rate 5000 --duration 60s --workers 2 --bridges 2
  npm run bench -- --rate 600 --duration 20s --partial-share 0.1 --timeout-ms 2000
  TEMPORAL_ADDRESS=temporal:7233 NATS_URL=nats://nats:4222 npm run bench -- --target external --pids worker=123,bridge=456`;

const AGENT_NAME = /^[a-z0-9_-]{1,64}$/;
const SETTING_NAME = /^[A-Z][A-Z0-9_]*$/;

function fail(option: string, message: string): never {
  throw new ConfigError(`--${option}: ${message}`);
}

function number(option: string, text: string, check: (x: number) => boolean, expected: string): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || !check(value)) fail(option, `expected ${expected}, got "${text}"`);
  return value;
}

function duration(option: string, text: string): number {
  let ms: number;
  try {
    ms = /^\d+(\.\d+)?$/.test(text.trim()) ? parseDuration(`${text.trim()}s`) : parseDuration(text);
  } catch (error) {
    fail(option, (error as Error).message);
  }
  if (ms <= 0) fail(option, `must be longer than 0, got "${text}"`);
  return ms;
}

function pairs(option: string, items: string[], key: RegExp, value: (v: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq);
    if (eq <= 0 || !key.test(name) || !value(item.slice(eq + 1))) fail(option, `expected name=value, got "${item}"`);
    out[name] = item.slice(eq + 1);
  }
  return out;
}

/** A timestamp usable in a folder name: 2026-11-22T04-05-06. */
function timestampForPath(now: Date): string {
  return now.toISOString().slice(0, 19).replace(/:/g, '-');
}

/** Parses the command line; `repoRoot` and `now` make the default output folder. */
export function parseBenchOptions(argv: string[], repoRoot: string, now = new Date()): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rate: { type: 'string', default: '5000' },
        duration: { type: 'string', default: '60s' },
        agents: { type: 'string', default: DEFAULT_POLICY.expected_agents.join(',') },
        'partial-share': { type: 'string', default: '0.1' },
        'agent-spread': { type: 'string', default: '0' },
        'timeout-ms': { type: 'string', default: '5000' },
        target: { type: 'string', default: 'local' },
        engine: { type: 'string', default: 'dev' },
        out: { type: 'string' },
        'find-capacity': { type: 'boolean', default: false },
        'step-duration': { type: 'string', default: '60s' },
        'step-factor': { type: 'string', default: '1.5' },
        'max-steps': { type: 'string', default: '20' },
        'p95-bound': { type: 'string', default: '1s' },
        ceiling: { type: 'boolean', default: false },
        settle: { type: 'string', default: '30s' },
        'max-in-flight': { type: 'string', default: '256' },
        pids: { type: 'string', default: '' },
        'stack-env': { type: 'string', multiple: true, default: [] },
        'dynamic-config': { type: 'string', multiple: true, default: [] },
        'sqlite-pragma': { type: 'string', multiple: true, default: [] },
        'temporal-env': { type: 'string', multiple: true, default: [] },
        workers: { type: 'string', default: '1' },
        bridges: { type: 'string', default: '0' },
        'keep-data': { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        'run-id': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }

  const agents = values.agents.split(',').map((a) => a.trim());
  for (const agent of agents)
    if (!AGENT_NAME.test(agent)) fail('agents', `"${agent}" is not an agent name ([a-z0-9_-]{1,64})`);
  if (new Set(agents).size !== agents.length) fail('agents', `an agent is listed twice in "${values.agents}"`);

  const partialShare = number(
    'partial-share',
    values['partial-share'],
    (x) => x >= 0 && x < 1,
    'a share from 0 up to (not including) 1',
  );
  if (partialShare > 0 && agents.length < 2)
    fail('partial-share', 'a partial correlation leaves out its last agent, so it needs at least two --agents');

  const target = values.target;
  if (target !== 'local' && target !== 'external') fail('target', `expected local or external, got "${target}"`);

  const engine = values.engine;
  if (engine !== 'dev' && engine !== 'cluster') fail('engine', `expected dev or cluster, got "${engine}"`);
  if (engine !== 'dev' && target === 'external')
    fail('engine', 'only for --target local: an external target is what it is');

  const timeoutMs = number(
    'timeout-ms',
    values['timeout-ms'],
    (x) => Number.isInteger(x) && x > 0,
    'a whole number of milliseconds above 0',
  );
  const settleMs = duration('settle', values.settle);
  if (target === 'local' && partialShare > 0 && settleMs <= timeoutMs) {
    fail(
      'settle',
      `must be longer than --timeout-ms (${timeoutMs} ms): partial correlations decide only at the timeout`,
    );
  }

  const runId = values['run-id'] ?? Math.random().toString(36).slice(2, 8);
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(runId)) fail('run-id', `expected 1-40 letters, digits, _ or -, got "${runId}"`);

  const pids = Object.fromEntries(
    Object.entries(
      pairs('pids', values.pids ? values.pids.split(',').map((p) => p.trim()) : [], /^[A-Za-z0-9_-]+$/, (v) =>
        /^\d+$/.test(v),
      ),
    ).map(([k, v]) => [k, Number(v)]),
  );
  if (Object.keys(pids).length > 0 && target === 'local')
    fail('pids', 'only for --target external: the local stack knows its own processes');
  const stackEnv = pairs('stack-env', values['stack-env'], SETTING_NAME, () => true);
  if (Object.keys(stackEnv).length > 0 && target === 'external')
    fail('stack-env', 'only for --target local: an external worker has its own settings');
  const dynamicConfig = pairs('dynamic-config', values['dynamic-config'], /^[A-Za-z][A-Za-z0-9_.]*$/, (v) => v !== '');
  const sqlitePragmas = pairs('sqlite-pragma', values['sqlite-pragma'], /^[a-z_]+$/, (v) => v !== '');
  const temporalEnv = pairs('temporal-env', values['temporal-env'], SETTING_NAME, () => true);
  if (values.profile && target === 'external')
    fail('profile', 'only for --target local: profile an external worker with node --cpu-prof yourself');
  for (const [option, given] of [
    ['dynamic-config', dynamicConfig],
    ['sqlite-pragma', sqlitePragmas],
    ['temporal-env', temporalEnv],
  ] as const) {
    if (Object.keys(given).length > 0 && target === 'external')
      fail(option, 'only for --target local: an external server has its own configuration');
    if (Object.keys(given).length > 0 && engine === 'cluster')
      fail(option, 'only for --engine dev: the cluster runs deploy/temporal/ as it is');
  }
  const processCount = (option: 'workers' | 'bridges', least: number): number => {
    const count = number(
      option,
      values[option],
      (x) => Number.isInteger(x) && x >= least && x <= MAX_COPIES,
      `a whole number from ${least} to ${MAX_COPIES}`,
    );
    if (count !== least && target === 'external')
      fail(option, 'only for --target local: an external target runs its own processes');
    return count;
  };

  return {
    ratePerMinute: number('rate', values.rate, (x) => x > 0, 'a number of signals per minute above 0'),
    durationMs: duration('duration', values.duration),
    agents,
    partialShare,
    agentSpreadMs: values['agent-spread'].trim() === '0' ? 0 : duration('agent-spread', values['agent-spread']),
    timeoutMs,
    target,
    outDir: values.out ?? join(repoRoot, '.cache', 'bench', timestampForPath(now)),
    findCapacity: values['find-capacity'],
    stepDurationMs: duration('step-duration', values['step-duration']),
    stepFactor: number('step-factor', values['step-factor'], (x) => x > 1, 'a factor above 1'),
    maxSteps: number('max-steps', values['max-steps'], (x) => Number.isInteger(x) && x > 0, 'a whole number above 0'),
    p95BoundMs: duration('p95-bound', values['p95-bound']),
    ceiling: values.ceiling,
    settleMs,
    maxInFlight: number(
      'max-in-flight',
      values['max-in-flight'],
      (x) => Number.isInteger(x) && x > 0,
      'a whole number above 0',
    ),
    pids,
    stackEnv,
    engine,
    devServer: { dynamicConfig, sqlitePragmas, env: temporalEnv },
    workers: processCount('workers', 1),
    bridges: processCount('bridges', 0),
    keepData: values['keep-data'],
    profile: values.profile,
    runId,
  };
}
