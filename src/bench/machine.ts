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

export function machineFacts(repoRoot: string): MachineFacts {
  const logPath = join(repoRoot, '.tools', 'install.log');
  const packages: Record<string, string> = {};
  for (const name of ['@temporalio/worker', '@temporalio/client', 'nats']) {
    try {
      packages[name] = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not installed where expected: left out
    }
  }
  let git: MachineFacts['git'];
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
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
    tools: existsSync(logPath) ? toolVersions(readFileSync(logPath, 'utf8')) : {},
    packages,
    ...(git ? { git } : {}),
  };
}
