/** CPU and memory of processes, read from /proc (Linux) once a second. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessSample {
  /** CPU used since the previous sample, in % of one core (200 = two cores busy). */
  cpuPct: number | null;
  rssMb: number | null;
  /** A process tree's live processes at the sample (PostgreSQL: the postmaster and its backends). */
  processes?: number;
}

/**
 * What a sample names: a process by its pid, or a process tree (`{ tree: pid }`): the pid and every process below it.
 */
export type Tracked = number | { tree: number };

/** The fields of /proc/<pid>/stat a sample uses. */
export interface ProcStat {
  ppid: number;
  /** utime + stime: the process's own CPU ticks (all its threads, live and exited). */
  ticks: number;
  /** cutime + cstime: CPU ticks of its children that have exited and been waited for (and theirs, cumulatively). */
  childTicks: number;
}

/** The fields of /proc/<pid>/stat a sample uses, from its text. */
export function parseProcStat(statText: string): ProcStat {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // Fields 4 (ppid), 14-15 (utime, stime) and 16-17 (cutime, cstime) of the whole line are 1, 11-12
  // and 13-14 after the name.
  const [ppid, utime, stime, cutime, cstime] = [1, 11, 12, 13, 14].map((i) => Number(fields[i]));
  if (![ppid, utime, stime, cutime, cstime].every(Number.isFinite))
    throw new Error(`unexpected /proc stat line: ${statText.slice(0, 80)}`);
  return { ppid, ticks: utime + stime, childTicks: cutime + cstime };
}

/** CPU ticks (user + system) of a process from the text of /proc/<pid>/stat. */
export function parseCpuTicks(statText: string): number {
  return parseProcStat(statText).ticks;
}

/** Resident set size in MB from the text of /proc/<pid>/status, undefined if absent. */
export function parseRssMb(statusText: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return match ? Number(match[1]) / 1024 : undefined;
}

/**
 * A process's resident memory in kB from /proc/<pid>/status: the whole, and its anonymous, file-backed and
 * shared-memory parts (Linux 4.5+).
 */
export interface RssParts {
  rssKb: number;
  anonKb?: number;
  fileKb?: number;
  shmemKb?: number;
}

export function parseRssParts(statusText: string): RssParts | undefined {
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(statusText);
    return match ? Number(match[1]) : undefined;
  };
  const rssKb = field('VmRSS');
  if (rssKb === undefined) return undefined;
  const [anonKb, fileKb, shmemKb] = [field('RssAnon'), field('RssFile'), field('RssShmem')];
  return {
    rssKb,
    ...(anonKb !== undefined ? { anonKb } : {}),
    ...(fileKb !== undefined ? { fileKb } : {}),
    ...(shmemKb !== undefined ? { shmemKb } : {}),
  };
}

/**
 * The resident memory of processes that share their program and a shared-memory segment, as a
 * forking server and its children do (PostgreSQL's backends all map its binary and its shared
 * buffers): each one's anonymous memory, plus the largest file-backed and the largest shared
 * memory of any one of them, which they share. Adding up their VmRSS would count the shared
 * buffers once per backend. Without the parts (a kernel before 4.5), the sum of VmRSS.
 */
export function treeRssKb(parts: RssParts[]): number {
  if (parts.some((p) => p.anonKb === undefined || p.fileKb === undefined || p.shmemKb === undefined))
    return parts.reduce((sum, p) => sum + p.rssKb, 0);
  const max = (key: 'fileKb' | 'shmemKb'): number => Math.max(0, ...parts.map((p) => p[key]!));
  return parts.reduce((sum, p) => sum + p.anonKb!, 0) + max('fileKb') + max('shmemKb');
}

/** Reads /proc; a test gives fixture text instead. Both throw when the path is not there (the process has exited). */
export interface ProcFiles {
  read(path: string): string;
  list(path: string): string[];
}

const LIVE_PROC: ProcFiles = { read: (path) => readFileSync(path, 'utf8'), list: (path) => readdirSync(path) };

/** The pids in the text of /proc/<pid>/task/<tid>/children. */
export function parseChildren(text: string): number[] {
  return text
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/**
 * A process's children, from the `children` file of each of its threads; undefined without the file (a kernel without
 * CONFIG_PROC_CHILDREN).
 */
function childrenFromTaskFiles(pid: number, proc: ProcFiles): number[] | undefined {
  const out: number[] = [];
  for (const tid of proc.list(`/proc/${pid}/task`)) {
    try {
      out.push(...parseChildren(proc.read(`/proc/${pid}/task/${tid}/children`)));
    } catch {
      // A thread may have exited since the listing; the main thread without the file: no such file on this kernel.
      if (tid === String(pid)) return undefined;
    }
  }
  return out;
}

/** Every process's children by the ppid field of each /proc/<pid>/stat. */
function childrenByPpidScan(proc: ProcFiles): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const entry of proc.list('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { ppid } = parseProcStat(proc.read(`/proc/${entry}/stat`));
      const list = byParent.get(ppid);
      if (list) list.push(Number(entry));
      else byParent.set(ppid, [Number(entry)]);
    } catch {
      // exited since the listing
    }
  }
  return byParent;
}

export interface TreeSample {
  /**
   * CPU ticks of the tree: of each live process its own and its waited-for children's, so a child that has exited still
   * counts.
   */
  ticks: number;
  /** See treeRssKb; undefined when no process's status could be read. */
  rssKb: number | undefined;
  /** Live processes in the tree. */
  processes: number;
}

const MAX_TREE_ATTEMPTS = 3;

/**
 * One sample of a process tree: the root and every process below it (found through each thread's
 * `children` file, or the ppid of every process where the kernel has no such file). A child that
 * exits and is waited for moves its CPU ticks into its parent's cutime and cstime, so the sum over
 * live processes of utime + stime + cutime + cstime loses none of them. Each parent is read before
 * its children and again after: when a parent's cutime moved in between (a child was reaped while
 * the tree was read, so its ticks may count twice or not at all), the tree is read again.
 * Throws when the root is not there.
 */
export function sampleProcessTree(root: number, proc: ProcFiles = LIVE_PROC): TreeSample {
  let scan: Map<number, number[]> | undefined;
  const childrenOf = (pid: number): number[] => {
    if (!scan) {
      const fromFiles = childrenFromTaskFiles(pid, proc);
      if (fromFiles) return fromFiles;
      scan = childrenByPpidScan(proc);
    }
    return scan.get(pid) ?? [];
  };
  for (let attempt = 1; ; attempt++) {
    let ticks = 0;
    const rss: RssParts[] = [];
    const parents = new Map<number, number>();
    const seen = new Set<number>();
    let live = 0;
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      let stat: ProcStat;
      let children: number[];
      try {
        stat = parseProcStat(proc.read(`/proc/${pid}/stat`));
        children = childrenOf(pid);
      } catch (error) {
        if (pid === root) throw error;
        continue; // exited (and was waited for: its ticks are in its parent's, read before it)
      }
      live++;
      ticks += stat.ticks + stat.childTicks;
      try {
        const parts = parseRssParts(proc.read(`/proc/${pid}/status`));
        if (parts) rss.push(parts);
      } catch {
        // exited since its stat was read
      }
      if (children.length > 0) parents.set(pid, stat.childTicks);
      queue.push(...children);
    }
    const settled = [...parents].every(([pid, childTicks]) => {
      try {
        return parseProcStat(proc.read(`/proc/${pid}/stat`)).childTicks === childTicks;
      } catch {
        return pid !== root; // a parent below the root exited: its own parent's cutime shows it (checked too)
      }
    });
    if (settled || attempt >= MAX_TREE_ATTEMPTS)
      return { ticks, rssKb: rss.length > 0 ? treeRssKb(rss) : undefined, processes: live };
    scan = undefined;
  }
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
 * Samples named processes (or process trees, `{ tree: pid }`), and the whole machine as `machine`
 * (so a run can tell how much CPU other work took); a process that has exited (or is not readable)
 * samples as null.
 */
export class ResourceSampler {
  private readonly ticksPerSecond = clockTicksPerSecond();
  private previousMachine?: { busy: number; total: number };
  private readonly tracked = new Map<string, Tracked>();
  private readonly previous = new Map<string, { ticks: number; at: number }>();
  private readonly first = new Map<string, number>();

  constructor(
    pids: Record<string, Tracked | undefined> = {},
    private readonly proc: ProcFiles = LIVE_PROC,
  ) {
    for (const [name, pid] of Object.entries(pids)) this.track(name, pid);
  }

  /** Starts (or stops, with undefined) sampling a process, or a process tree, under a name. */
  track(name: string, pid: Tracked | undefined): void {
    this.previous.delete(name);
    this.first.delete(name);
    if (pid === undefined) this.tracked.delete(name);
    else this.tracked.set(name, pid);
  }

  names(): string[] {
    return [...this.tracked.keys()];
  }

  /** CPU seconds each process (or tree) used between its first and its latest sample. */
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
    for (const [name, pid] of this.tracked) {
      try {
        const { ticks, rssMb, processes } = this.read(pid);
        const before = this.previous.get(name);
        this.previous.set(name, { ticks, at: now });
        if (!this.first.has(name)) this.first.set(name, ticks);
        const cpuPct =
          before && now > before.at
            ? ((ticks - before.ticks) / this.ticksPerSecond / ((now - before.at) / 1000)) * 100
            : null;
        out[name] = {
          cpuPct: cpuPct === null ? null : Math.round(cpuPct * 10) / 10,
          rssMb: rssMb === undefined ? null : Math.round(rssMb * 10) / 10,
          ...(processes !== undefined ? { processes } : {}),
        };
      } catch {
        out[name] = { cpuPct: null, rssMb: null };
      }
    }
    out[MACHINE] = this.sampleMachine();
    return out;
  }

  private read(pid: Tracked): { ticks: number; rssMb: number | undefined; processes?: number } {
    if (typeof pid === 'number') {
      return {
        ticks: parseCpuTicks(this.proc.read(`/proc/${pid}/stat`)),
        rssMb: parseRssMb(this.proc.read(`/proc/${pid}/status`)),
      };
    }
    const tree = sampleProcessTree(pid.tree, this.proc);
    return {
      ticks: tree.ticks,
      rssMb: tree.rssKb === undefined ? undefined : tree.rssKb / 1024,
      processes: tree.processes,
    };
  }

  private sampleMachine(): ProcessSample {
    try {
      const now = parseMachineTicks(this.proc.read('/proc/stat'));
      const before = this.previousMachine;
      this.previousMachine = now;
      const used = parseUsedMemoryMb(this.proc.read('/proc/meminfo'));
      const cpuPct =
        before && now.total > before.total
          ? ((now.busy - before.busy) / (now.total - before.total)) * now.cores * 100
          : null;
      return {
        cpuPct: cpuPct === null ? null : Math.round(cpuPct * 10) / 10,
        rssMb: used === undefined ? null : Math.round(used),
      };
    } catch {
      return { cpuPct: null, rssMb: null };
    }
  }
}
