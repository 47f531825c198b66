/** The facts about the machine a run was made on, recorded in result.json. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const round = (x: number): number => Number(x.toFixed(2));

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  totalMemoryMb: number;
  node: string;
  os: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  /** How fast the machine ran a fixed piece of work before the run, and after it (see `speedProbeMs`). */
  speedProbeMsAtStart: number;
  speedProbeMsAtEnd?: number;
  tools: Record<string, string>;
  packages: Record<string, string>;
  git?: { commit: string; dirty: boolean };
}

/** The last version `.tools/install.log` records for each tool (`<time> <tool> <version>: …`). */
export function toolVersions(installLog: string): Record<string, string> {
  const tools: Record<string, string> = {};
  for (const line of installLog.split('\n')) {
    const match = /^\S+\s+(.+?)\s+(v?\d[\w.+-]*):/.exec(line.trim());
    if (match) tools[match[1]] = match[2];
  }
  return tools;
}

const PROBE_ITERATIONS = 20_000_000;

/**
 * Milliseconds of CPU one thread takes for a fixed loop (the best of three, so a preemption does
 * not count): how fast this machine is now. Virtual machines of one kind drift by tens of per cent
 * from hour to hour; runs compared across time should be compared with this next to them.
 */
export function speedProbeMs(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3; attempt++) {
    const start = process.cpuUsage();
    let x = 0x9e3779b9;
    for (let i = 0; i < PROBE_ITERATIONS; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    const used = process.cpuUsage(start);
    if (x === 0) throw new Error('unreachable: the probe keeps its result');
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return round(best);
}

export function machineFacts(repoRoot: string): MachineFacts {
  const logPath = join(repoRoot, '.tools', 'install.log');
  const packages: Record<string, string> = {};
  for (const name of ['@temporalio/worker', '@temporalio/client', 'nats']) {
    try {
      packages[name] = (
        JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
      ).version;
    } catch {
      // not installed where expected: left out
    }
  }
  let git: MachineFacts['git'];
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    git = { commit, dirty };
  } catch {
    git = undefined;
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map(round),
    speedProbeMsAtStart: speedProbeMs(),
    tools: existsSync(logPath) ? toolVersions(readFileSync(logPath, 'utf8')) : {},
    packages,
    ...(git ? { git } : {}),
  };
}
