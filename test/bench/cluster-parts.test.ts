/**
 * The bench's parts for the cluster engine: a process tree's CPU and memory (PostgreSQL and its
 * backends) from /proc, the database time of several Temporal nodes added up, and the report's
 * per-process and total CPU per correlation. A fake /proc stands in for the real one, except in the
 * one test that samples a real shell and the child it waited for.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type DbTime, dbTimeBetween, parseDbTime, scrapeTotalDbTime, sumDbTime } from '../../src/bench/engine-metrics';
import { CorrelationBook } from '../../src/bench/observer';
import { formatTable, summarizeCpuTotal, summarizePhase } from '../../src/bench/report';
import {
  parseChildren,
  parseProcStat,
  parseRssParts,
  type ProcFiles,
  ResourceSampler,
  sampleProcessTree,
  treeRssKb,
} from '../../src/bench/resources';
import type { PhaseResult, SecondSample } from '../../src/bench/run';
import { engineMetricsUrls, enginePids } from '../../src/bench/target';

interface FakeProcess {
  ppid: number;
  comm: string;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** kB */
  anon: number;
  file: number;
  shmem: number;
}

/**
 * A /proc of made-up processes, with or without the `children` files, that can reap a child the way the kernel does.
 */
class FakeProc implements ProcFiles {
  readonly processes = new Map<number, FakeProcess>();
  /** Called before each read, so a test can change the processes in the middle of a sample. */
  beforeRead?: (path: string) => void;

  constructor(private readonly childrenFiles = true) {}

  add(pid: number, ppid: number, fields: Partial<FakeProcess> = {}): this {
    this.processes.set(pid, {
      ppid,
      comm: 'postgres: temporal temporal 127.0.0.1(4242) idle',
      utime: 0,
      stime: 0,
      cutime: 0,
      cstime: 0,
      anon: 1000,
      file: 5000,
      shmem: 0,
      ...fields,
    });
    return this;
  }

  /**
   * The child exits and its parent waits for it: its ticks (and its own children's) move into the parent's cutime and
   * cstime.
   */
  reap(pid: number): void {
    const child = this.processes.get(pid)!;
    const parent = this.processes.get(child.ppid)!;
    parent.cutime += child.utime + child.cutime;
    parent.cstime += child.stime + child.cstime;
    this.processes.delete(pid);
  }

  read(path: string): string {
    this.beforeRead?.(path);
    const stat = /^\/proc\/(\d+)\/stat$/.exec(path);
    const status = /^\/proc\/(\d+)\/status$/.exec(path);
    const children = /^\/proc\/(\d+)\/task\/(\d+)\/children$/.exec(path);
    const pid = Number((stat ?? status ?? children)?.[1]);
    const p = this.processes.get(pid);
    if (!p || (children && !this.childrenFiles)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    if (stat)
      return `${pid} (${p.comm}) S ${p.ppid} ${pid} ${pid} 0 -1 4194560 9019 0 0 0 ${p.utime} ${p.stime} ${p.cutime} ${p.cstime} 20 0 1 0 3333 1150000000 30000\n`;
    if (status)
      return `Name:\tpostgres\nVmRSS:\t${p.anon + p.file + p.shmem} kB\nRssAnon:\t${p.anon} kB\nRssFile:\t${p.file} kB\nRssShmem:\t${p.shmem} kB\nThreads:\t1\n`;
    // Children of the main thread, space-separated with a trailing space, as the kernel writes them.
    return [...this.processes]
      .filter(([, c]) => c.ppid === pid)
      .map(([c]) => `${c} `)
      .join('');
  }

  list(path: string): string[] {
    this.beforeRead?.(path);
    if (path === '/proc') return ['self', 'stat', 'meminfo', ...[...this.processes.keys()].map(String)];
    const task = /^\/proc\/(\d+)\/task$/.exec(path);
    if (task && this.processes.has(Number(task[1]))) return [task[1]];
    throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  }
}

/**
 * A postmaster (100) with a checkpointer (101), two backends (102, 103) and a backend's child (104, as a parallel
 * worker would not be, but a tree may have).
 */
function postgresTree(childrenFiles = true): FakeProc {
  return new FakeProc(childrenFiles)
    .add(1, 0, { comm: 'init', utime: 99_999 })
    .add(100, 1, {
      comm: 'postgres',
      utime: 50,
      stime: 20,
      cutime: 7,
      cstime: 3,
      anon: 4000,
      file: 20_000,
      shmem: 2000,
    })
    .add(101, 100, { utime: 5, stime: 5, shmem: 30_000 })
    .add(102, 100, { utime: 300, stime: 100, shmem: 60_000 })
    .add(103, 100, { utime: 200, stime: 50, shmem: 50_000 })
    .add(104, 103, { utime: 10, stime: 0, cutime: 1, cstime: 1 })
    .add(200, 1, { comm: 'temporal-server', utime: 5000, stime: 1000 }); // not in the tree
}

const TREE_TICKS = 50 + 20 + 7 + 3 + (5 + 5) + (300 + 100) + (200 + 50) + (10 + 1 + 1);

describe('a process tree from /proc', () => {
  it('reads ppid, own ticks and waited-for children ticks (fields 4, 14-15, 16-17) from a stat line whose name holds spaces and parentheses', () => {
    expect(
      parseProcStat(
        '4242 (postgres: temporal (x) idle) S 77 4242 4242 0 -1 4194560 9019 0 0 0 1234 567 89 10 20 0 1 0 3333 1150000000 30000',
      ),
    ).toEqual({
      ppid: 77,
      ticks: 1234 + 567,
      childTicks: 89 + 10,
    });
    expect(parseChildren('101 102 103 ')).toEqual([101, 102, 103]);
    expect(parseChildren('')).toEqual([]);
  });

  it("counts each process's anonymous memory, and the file-backed and shared memory they share once", () => {
    const parts = [
      'VmRSS:\t 26000 kB\nRssAnon:\t 4000 kB\nRssFile:\t 20000 kB\nRssShmem:\t 2000 kB\n',
      'VmRSS:\t 66000 kB\nRssAnon:\t 1000 kB\nRssFile:\t 5000 kB\nRssShmem:\t 60000 kB\n',
    ].map((text) => parseRssParts(text)!);
    expect(parts[0]).toEqual({ rssKb: 26_000, anonKb: 4000, fileKb: 20_000, shmemKb: 2000 });
    expect(treeRssKb(parts)).toBe(4000 + 1000 + 20_000 + 60_000);
    // Without the parts (Linux before 4.5): the sum of VmRSS.
    expect(treeRssKb([{ rssKb: 26_000 }, { rssKb: 66_000, anonKb: 1000, fileKb: 5000, shmemKb: 60_000 }])).toBe(92_000);
  });

  it.each([
    ['through the children files', true],
    ['through every process ppid where the kernel has no children file', false],
  ])('adds up the root and every process below it %s', (_how, childrenFiles) => {
    const proc = postgresTree(childrenFiles);
    expect(sampleProcessTree(100, proc)).toEqual({
      ticks: TREE_TICKS,
      rssKb: 4000 + 1000 * 4 + 20_000 + 60_000,
      processes: 5,
    });
    // A subtree, and a root that is not there.
    expect(sampleProcessTree(103, proc).ticks).toBe(200 + 50 + 10 + 1 + 1);
    expect(() => sampleProcessTree(999, proc)).toThrow(/ENOENT/);
  });

  it('loses no ticks of a backend that exits between two samples: they move into the postmaster cutime', () => {
    const proc = postgresTree();
    const before = sampleProcessTree(100, proc);
    proc.processes.get(102)!.utime += 40; // works, then exits
    proc.reap(102);
    proc.add(105, 100, { utime: 3 }); // a new connection
    const after = sampleProcessTree(100, proc);
    expect(after.ticks - before.ticks).toBe(40 + 3);
    expect(after.processes).toBe(5);
  });

  it('reads the tree again when a backend is reaped while it is being read, so its ticks count once', () => {
    const proc = postgresTree();
    let reaped = false;
    // The postmaster is read, then backend 102 exits and is waited for before its own stat is read.
    proc.beforeRead = (path) => {
      if (!reaped && path === '/proc/102/stat') {
        reaped = true;
        proc.reap(102);
      }
    };
    expect(sampleProcessTree(100, proc).ticks).toBe(TREE_TICKS);
  });

  it('samples a tree under a name: CPU over the phase including an exited backend, the memory and how many processes', () => {
    const proc = postgresTree();
    const sampler = new ResourceSampler({ postgres: { tree: 100 }, temporal: 200 }, proc);
    const first = sampler.sample();
    expect(first.postgres).toEqual({
      cpuPct: null,
      rssMb: expect.closeTo((4000 + 4000 + 20_000 + 60_000) / 1024, 1),
      processes: 5,
    });
    expect(first.temporal.processes).toBeUndefined();
    proc.processes.get(103)!.utime += 100;
    proc.reap(104);
    proc.reap(103);
    proc.processes.get(200)!.utime += 50;
    sampler.sample();
    // 100 ticks a second on Linux (getconf CLK_TCK).
    expect(sampler.cpuSecondsUsed()).toEqual({ postgres: 1, temporal: 0.5 });
  });

  it('samples a real shell with the CPU of the child it waited for', async () => {
    // After the first sample, a child does a fixed amount of work (about 0.25 s of CPU) and exits; the shell, having
    // waited for it, lives on.
    const shell = spawn(
      'sh',
      ['-c', "sleep 0.3; sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'; sleep 30"],
      { stdio: 'ignore' },
    );
    try {
      const pid = shell.pid!;
      const sampler = new ResourceSampler({ tree: { tree: pid }, alone: pid });
      expect(sampler.sample().tree.processes).toBeGreaterThanOrEqual(1);
      // However busy the machine: until the shell has waited for the child (its cutime and cstime have its ticks).
      const deadline = Date.now() + 30_000;
      while (parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).childTicks < 10 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const second = sampler.sample();
      expect(second.tree.processes).toBe(2); // the shell and its sleep
      const used = sampler.cpuSecondsUsed();
      expect(used.tree).toBeGreaterThanOrEqual(0.1);
      expect(used.alone).toBeLessThan(0.05);
    } finally {
      shell.kill('SIGKILL');
    }
  }, 40_000);
});

describe("the local stack's engine processes and metrics", () => {
  const cluster = {
    kind: 'cluster' as const,
    temporalNodes: [
      { name: 'node-1', pid: 11, metricsUrl: 'http://127.0.0.1:9001/metrics' },
      { name: 'node-2', pid: 12, metricsUrl: 'http://127.0.0.1:9002/metrics' },
    ],
    postgres: { pid: 20 },
    nats: { nodes: [{ pid: 31 }, { pid: 32 }, { pid: 33 }] },
    ui: { pid: 40 },
  };

  it('samples each cluster process, PostgreSQL as the tree of its backends, and scrapes every node', () => {
    expect(enginePids(cluster)).toEqual({
      'temporal-node-1': 11,
      'temporal-node-2': 12,
      'nats-1': 31,
      'nats-2': 32,
      'nats-3': 33,
      postgres: { tree: 20 },
      ui: 40,
    });
    expect(engineMetricsUrls(cluster)).toEqual(['http://127.0.0.1:9001/metrics', 'http://127.0.0.1:9002/metrics']);
    expect(enginePids({ ...cluster, postgres: { pid: undefined }, ui: undefined })).toMatchObject({
      postgres: undefined,
      ui: undefined,
    });
  });

  it('samples the dev server and nats-server as before', () => {
    const dev = {
      kind: 'dev' as const,
      temporal: { pid: 5, metricsUrl: 'http://127.0.0.1:9000/metrics' },
      nats: { pid: 6 },
    };
    expect(enginePids(dev)).toEqual({ temporal: 5, nats: 6 });
    expect(engineMetricsUrls(dev)).toEqual(['http://127.0.0.1:9000/metrics']);
    expect(engineMetricsUrls({ ...dev, temporal: { pid: 5 } })).toEqual([]);
  });
});

describe("the cluster's database time", () => {
  const node = (create: number, seconds: number): DbTime =>
    parseDbTime(
      [
        `persistence_latency_sum{operation="CreateWorkflowExecution",service_name="history"} ${seconds}`,
        `persistence_latency_count{operation="CreateWorkflowExecution",service_name="history"} ${create}`,
        `persistence_latency_sum{operation="GetTaskQueue",service_name="matching"} 0.25`,
        `persistence_latency_count{operation="GetTaskQueue",service_name="matching"} 10`,
        `visibility_persistence_latency_sum{operation="RecordWorkflowExecutionStarted"} ${create * 0.001}`,
        `visibility_persistence_latency_count{operation="RecordWorkflowExecutionStarted"} ${create}`,
      ].join('\n'),
    );

  it("adds up every node's stores and operations", () => {
    expect(sumDbTime([node(100, 0.5), node(300, 1.5)])).toEqual({
      persistenceSeconds: expect.closeTo(0.5 + 0.25 + 1.5 + 0.25, 9),
      persistenceRequests: 100 + 10 + 300 + 10,
      visibilitySeconds: expect.closeTo(0.4, 9),
      visibilityRequests: 400,
      byOperation: {
        CreateWorkflowExecution: { seconds: expect.closeTo(2, 9), count: 400 },
        GetTaskQueue: { seconds: expect.closeTo(0.5, 9), count: 20 },
        RecordWorkflowExecutionStarted: { seconds: expect.closeTo(0.4, 9), count: 400 },
      },
    });
    expect(sumDbTime([])).toEqual({
      persistenceSeconds: 0,
      persistenceRequests: 0,
      visibilitySeconds: 0,
      visibilityRequests: 0,
      byOperation: {},
    });
  });

  it('scrapes each node and the phase is the difference of the totals', async () => {
    const scrapes: Record<string, DbTime[]> = {
      'http://node-1/metrics': [node(100, 0.5), node(150, 0.75)],
      'http://node-2/metrics': [node(300, 1.5), node(400, 2)],
    };
    const scrape = async (url: string): Promise<DbTime> => scrapes[url].shift()!;
    const urls = Object.keys(scrapes);
    const before = await scrapeTotalDbTime(urls, scrape);
    const phase = dbTimeBetween(before, await scrapeTotalDbTime(urls, scrape));
    expect(phase.persistenceRequests).toBe(50 + 100);
    expect(phase.persistenceSeconds).toBeCloseTo(0.25 + 0.5, 9);
    expect(phase.byOperation).toEqual({
      CreateWorkflowExecution: { seconds: expect.closeTo(0.75, 9), count: 150 },
      RecordWorkflowExecutionStarted: { seconds: expect.closeTo(0.15, 9), count: 150 },
    });
  });
});

describe("the report of the cluster's processes", () => {
  const CLUSTER_CPU_SECONDS = {
    worker: 12,
    'temporal-node-1': 8,
    'temporal-node-2': 7,
    postgres: 10,
    'nats-1': 1,
    'nats-2': 0.5,
    'nats-3': 0.5,
    ui: 0.01,
    bench: 3,
  };

  it('adds up every process but the bench', () => {
    const total = summarizeCpuTotal(CLUSTER_CPU_SECONDS, 1000);
    expect(total.processes).toEqual([
      'worker',
      'temporal-node-1',
      'temporal-node-2',
      'postgres',
      'nats-1',
      'nats-2',
      'nats-3',
      'ui',
    ]);
    expect(total.cpuSeconds).toBe(39.01);
    expect(total.msPerCorrelation).toBe(39.01);
    expect(summarizeCpuTotal(CLUSTER_CPU_SECONDS, 0).msPerCorrelation).toBeNull();
  });

  it("lists each cluster process's CPU per correlation, PostgreSQL's processes and the total", () => {
    const book = new CorrelationBook();
    for (let n = 0; n < 4; n++) {
      book.sent(n, 1000 + n, false);
      book.decision(n, 1100 + n);
    }
    const resources = (postgresProcesses: number): SecondSample['resources'] =>
      Object.fromEntries(
        Object.keys(CLUSTER_CPU_SECONDS).map((name) => [
          name,
          { cpuPct: 10, rssMb: 100, ...(name === 'postgres' ? { processes: postgresProcesses } : {}) },
        ]),
      );
    const series: SecondSample[] = [1, 2].map((t) => ({
      t,
      rate: 600,
      offered: 10,
      sent: 10,
      started: 2,
      decided: 2,
      p95Ms: 100,
      undecided: 0,
      resources: resources(20 + t),
    }));
    const result: PhaseResult = {
      loadMs: 2000,
      settledMs: 0,
      pacer: { offered: 20, sent: 20, errors: 0, maxBacklog: 0 } as PhaseResult['pacer'],
      errorSamples: [],
      decidedDuringLoad: 4,
      series,
      cpuSeconds: CLUSTER_CPU_SECONDS,
      interrupted: false,
    };
    const summary = summarizePhase('signals', 600, result, book);
    expect(summary.resources.postgres).toMatchObject({ cpuMsPerCorrelation: 2500, processesMax: 22 });
    expect(summary.resources['temporal-node-2'].processesMax).toBeUndefined();
    expect(summary.cpuTotal.msPerCorrelation).toBe(9752.5);
    const table = formatTable([{ name: 'orchestrator', summary }], undefined);
    for (const name of ['temporal-node-1', 'temporal-node-2', 'postgres', 'nats-1', 'nats-2', 'nats-3', 'ui']) {
      expect(table).toMatch(
        new RegExp(
          `^${name} CPU ms per correlation +${CLUSTER_CPU_SECONDS[name as keyof typeof CLUSTER_CPU_SECONDS] * 250}$`,
          'm',
        ),
      );
    }
    expect(table).toMatch(/^postgres processes max +22$/m);
    expect(table).not.toMatch(/^worker processes max/m);
    expect(table).toMatch(/^CPU ms per correlation, all but bench +9752\.5 \(8 processes\)$/m);
  });
});
