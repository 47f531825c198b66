/** CPU and memory of processes, read from /proc (Linux) once a second. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessSample {
  /** CPU used since the previous sample, in % of one core (200 = two cores busy). */
  cpuPct: number | null;
  rssMb: number | null;
}

/** CPU ticks (user + system) of a process from the text of /proc/<pid>/stat. */
export function parseCpuTicks(statText: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) of the whole line are 12 and 13 after the name and state.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${statText.slice(0, 80)}`);
  return utime + stime;
}

/** Resident set size in MB from the text of /proc/<pid>/status, undefined if absent. */
export function parseRssMb(statusText: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return match ? Number(match[1]) / 1024 : undefined;
}

/** Busy and total CPU ticks of the whole machine from the text of /proc/stat (its first, `cpu` line). */
export function parseMachineTicks(procStatText: string): { busy: number; total: number; cores: number } {
  const lines = procStatText.split('\n');
  const line = lines.find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no cpu line in /proc/stat');
  const cores = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + (steal || 0);
  return { busy: total - idle - iowait, total, cores: Math.max(1, cores) };
}

/** Memory in use on the machine (total − available) in MB from the text of /proc/meminfo. */
export function parseUsedMemoryMb(meminfoText: string): number | undefined {
  const total = /^MemTotal:\s+(\d+)\s+kB/m.exec(meminfoText);
  const available = /^MemAvailable:\s+(\d+)\s+kB/m.exec(meminfoText);
  return total && available ? (Number(total[1]) - Number(available[1])) / 1024 : undefined;
}

/** Name of the whole machine's entry in a sample: CPU of every process, and memory in use. */
export const MACHINE = 'machine';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/**
 * Samples named processes, and the whole machine as `machine` (so a run can tell how much CPU other
 * work took); a process that has exited (or is not readable) samples as null.
 */
export class ResourceSampler {
  private readonly ticksPerSecond = clockTicksPerSecond();
  private previousMachine?: { busy: number; total: number };
  private readonly pids = new Map<string, number>();
  private readonly previous = new Map<string, { ticks: number; at: number }>();
  private readonly first = new Map<string, number>();

  constructor(pids: Record<string, number | undefined> = {}) {
    for (const [name, pid] of Object.entries(pids)) this.track(name, pid);
  }

  /** Starts (or stops, with undefined) sampling a process under a name. */
  track(name: string, pid: number | undefined): void {
    this.previous.delete(name);
    this.first.delete(name);
    if (pid === undefined) this.pids.delete(name);
    else this.pids.set(name, pid);
  }

  names(): string[] {
    return [...this.pids.keys()];
  }

  /** CPU seconds each process used between its first and its latest sample. */
  cpuSecondsUsed(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, firstTicks] of this.first) {
      const last = this.previous.get(name)?.ticks;
      if (last !== undefined) out[name] = Math.round(((last - firstTicks) / this.ticksPerSecond) * 100) / 100;
    }
    return out;
  }

  sample(): Record<string, ProcessSample> {
    const now = performance.now();
    const out: Record<string, ProcessSample> = {};
    for (const [name, pid] of this.pids) {
      try {
        const ticks = parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        const rss = parseRssMb(readFileSync(`/proc/${pid}/status`, 'utf8'));
        const before = this.previous.get(name);
        this.previous.set(name, { ticks, at: now });
        if (!this.first.has(name)) this.first.set(name, ticks);
        const cpuPct = before && now > before.at ? ((ticks - before.ticks) / this.ticksPerSecond / ((now - before.at) / 1000)) * 100 : null;
        out[name] = { cpuPct: cpuPct === null ? null : Math.round(cpuPct * 10) / 10, rssMb: rss === undefined ? null : Math.round(rss * 10) / 10 };
      } catch {
        out[name] = { cpuPct: null, rssMb: null };
      }
    }
    out[MACHINE] = this.sampleMachine();
    return out;
  }

  private sampleMachine(): ProcessSample {
    try {
      const now = parseMachineTicks(readFileSync('/proc/stat', 'utf8'));
      const before = this.previousMachine;
      this.previousMachine = now;
      const used = parseUsedMemoryMb(readFileSync('/proc/meminfo', 'utf8'));
      const cpuPct = before && now.total > before.total ? ((now.busy - before.busy) / (now.total - before.total)) * now.cores * 100 : null;
      return { cpuPct: cpuPct === null ? null : Math.round(cpuPct * 10) / 10, rssMb: used === undefined ? null : Math.round(used) };
    } catch {
      return { cpuPct: null, rssMb: null };
    }
  }
}
