/** `npm run bench`: the load harness. See USAGE in options.ts, and docs/BENCHMARKS.md. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { repoRoot } from '../devstack/tools';
import { DECISIONS_STREAM, SIGNALS_STREAM } from '../nats/streams';
import { runMain } from '../process/run-main';
import { shutdownSignal } from '../process/shutdown';
import { parseBenchOptions, USAGE } from './options';
import {
  type CeilingKind,
  correlationsPerMinute,
  type PhaseOutcome,
  runCeilingPhase,
  runOrchestratorPhase,
} from './phases';
import { machineFacts, speedProbeMs } from './machine';
import { correctnessProblems, formatTable, phaseChart, type PhaseSummary, summarizePhase } from './report';
import { renderChart } from './svg';
import { openTarget, waitForSignalsStream } from './target';

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function ratioOf(a: number | null | undefined, b: number | null | undefined): number | null {
  return a != null && b != null && b > 0 ? Number((a / b).toFixed(3)) : null;
}

runMain({
  usage: USAGE,
  async main(argv) {
    const root = repoRoot();
    const options = parseBenchOptions(argv, root);
    mkdirSync(options.outDir, { recursive: true });
    const startedAt = new Date();
    const machine = machineFacts(root);
    let interrupted = false;
    /** What the bench started, once it has: what an abort stops. */
    const started: { target?: { stop(failed: boolean): Promise<void> } } = {};
    void shutdownSignal().then((signal) => {
      interrupted = true;
      say(`received ${signal}: ending the load, then settling (again to abort)`);
      // A second signal aborts: no result, but nothing the bench started is left running.
      void shutdownSignal().then(async (again) => {
        say(`received ${again} again: aborting without a result; stopping what the bench started`);
        await started.target?.stop(true).catch((error: unknown) => say(`could not stop everything: ${String(error)}`));
        process.exit(130);
      });
    });

    const target = await openTarget(options, say);
    started.target = target;
    let failed = true;
    let orchestrator: PhaseOutcome | undefined;
    const ceilings: Partial<Record<CeilingKind, PhaseOutcome>> = {};
    /** The replicas the orchestrator's streams had in the run (R3 on the cluster). */
    const streamReplicas: Record<string, number> = {};
    if (target.engineShape) {
      const { temporal, nats, postgres } = target.engineShape;
      say(
        `engine: ${target.engineKind}: ${temporal.nodes} Temporal ${temporal.nodes === 1 ? 'server' : 'nodes'} (${temporal.serverVersion ?? '?'}, ${temporal.historyShards ?? '?'} history shards, ` +
          `${temporal.persistenceStore ?? '?'})${postgres ? `, ${postgres}` : ''}, ${nats.nodes} NATS ${nats.nodes === 1 ? 'server' : `nodes with R${nats.replicas} streams`}`,
      );
    }
    try {
      const nc = await connect({ ...target.nats, name: 'orchestrator-bench', maxReconnectAttempts: -1 });
      try {
        const jsm = await nc.jetstreamManager();
        await waitForSignalsStream(jsm, 30_000);
        const context = { options, target, nc, say, interrupted: () => interrupted };
        orchestrator = await runOrchestratorPhase(context);
        for (const stream of [SIGNALS_STREAM, DECISIONS_STREAM]) {
          const info = await jsm.streams.info(stream).catch(() => undefined);
          if (info) streamReplicas[stream] = info.config.num_replicas;
        }
        if (options.ceiling && !interrupted) {
          if (await target.quiesce())
            say("ceiling: stopped the orchestrator's bridge and worker, so no leftover work competes with it");
          else if (orchestrator.book.undecided > 0)
            say(
              `warning: ${orchestrator.book.undecided} correlations are still undecided: their work competes with the ceiling`,
            );
          for (const kind of ['c1', 'c2'] as const)
            if (!interrupted) ceilings[kind] = await runCeilingPhase(context, kind);
        }
      } finally {
        await nc.drain();
      }
      failed = false;
    } finally {
      await target.stop(failed);
    }

    const summaries: Array<{ name: string; key: string; summary: PhaseSummary }> = [
      {
        name: 'orchestrator',
        key: 'orchestrator',
        summary: summarizePhase(
          'signals',
          orchestrator.ratePerMinute,
          orchestrator.result,
          orchestrator.book,
          orchestrator.dlq,
          orchestrator.dbTime,
        ),
      },
    ];
    for (const [kind, outcome] of Object.entries(ceilings) as Array<[CeilingKind, PhaseOutcome]>) {
      summaries.push({
        name: `ceiling ${kind.toUpperCase()}`,
        key: `ceiling${kind.toUpperCase()}`,
        summary: summarizePhase(
          kind === 'c1' ? 'workflows' : 'signals',
          outcome.ratePerMinute,
          outcome.result,
          outcome.book,
          undefined,
          outcome.dbTime,
        ),
      });
    }
    const ours = summaries[0].summary;
    const ceilingSummary = (key: string): PhaseSummary | undefined => summaries.find((s) => s.key === key)?.summary;
    const rateOf = (s: PhaseSummary | undefined): number | null | undefined =>
      options.findCapacity ? s?.capacity?.sustainableCorrelationsPerSecond : s?.decidedPerSecondDuringLoad;
    const ratio = options.ceiling
      ? {
          basis: options.findCapacity
            ? 'sustainable correlations per second at capacity'
            : 'correlations decided per second during the load, at the same offered load',
          oursOverC1: ratioOf(rateOf(ours), rateOf(ceilingSummary('ceilingC1'))),
          oursOverC2: ratioOf(rateOf(ours), rateOf(ceilingSummary('ceilingC2'))),
        }
      : undefined;
    const speedProbeMsAtEnd = speedProbeMs();
    const problems = summaries.map((s) => correctnessProblems(s.summary, s.name, options.findCapacity));
    const errors = problems.flatMap((p) => p.errors);
    const warnings = problems.flatMap((p) => p.warnings);

    const result = {
      command: `npm run bench -- ${argv.join(' ')}`.trim(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      config: {
        ...options,
        correlationsPerMinute: Number(correlationsPerMinute(options).toFixed(2)),
        policy: target.policy ?? 'the external worker policy',
        engineAsRun:
          target.engine ??
          (target.engineKind === 'cluster'
            ? 'deploy/temporal/config/cluster.yaml and its dynamic config, as they are'
            : 'the external server'),
      },
      /** Which engine ran: the local dev server, the local cluster, or an external target's. */
      engine: target.engineKind,
      engineShape: target.engineShape ? { ...target.engineShape, streamReplicas } : null,
      machine: { ...machine, loadAverageAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))), speedProbeMsAtEnd },
      correctness: { ok: errors.length === 0, errors, warnings },
      ratio: ratio ?? null,
      orchestrator: { summary: ours, series: orchestrator.result.series },
      ...Object.fromEntries(
        (Object.entries(ceilings) as Array<[CeilingKind, PhaseOutcome]>).map(([kind, outcome]) => [
          `ceiling${kind.toUpperCase()}`,
          { summary: ceilingSummary(`ceiling${kind.toUpperCase()}`), series: outcome.result.series },
        ]),
      ),
    };
    writeFileSync(join(options.outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    const subtitle = `${options.agents.join('+')}, ${options.partialShare * 100} % partial, timeout ${options.timeoutMs} ms, ${options.target === 'local' ? `local ${target.engineKind} engine` : 'external target'}, ${machine.nproc} cores, load avg ${machine.loadAverageAtStart[0]} at start`;
    const chartTitle = options.findCapacity
      ? `capacity search from ${options.ratePerMinute} signals/min`
      : `${options.ratePerMinute} signals/min for ${options.durationMs / 1000} s`;
    writeFileSync(
      join(options.outDir, 'chart.svg'),
      renderChart(
        phaseChart(
          `orchestrator: ${chartTitle}`,
          subtitle,
          orchestrator.result.series,
          'decisions',
          orchestrator.result.steps,
        ),
      ),
    );
    for (const [kind, outcome] of Object.entries(ceilings) as Array<[CeilingKind, PhaseOutcome]>) {
      const title =
        kind === 'c1'
          ? 'ceiling C1: bare workflows (signal-with-start, complete)'
          : 'ceiling C2: bare fan-in (batched signal-with-starts, no-op local activity)';
      writeFileSync(
        join(options.outDir, `ceiling-${kind}.svg`),
        renderChart(phaseChart(title, subtitle, outcome.result.series, 'workflows', outcome.result.steps)),
      );
    }
    say('');
    say(formatTable(summaries, ratio));
    say(
      `machine speed probe: ${machine.speedProbeMsAtStart} ms before the run, ${speedProbeMsAtEnd} ms after it (the same work; lower is faster)`,
    );
    say('');
    for (const warning of warnings) say(`warning: ${warning}`);
    say(
      errors.length === 0
        ? 'correctness: ok (every correlation decided exactly once, nothing in the DLQ, no send errors)'
        : `correctness: FAILED\n  ${errors.join('\n  ')}`,
    );
    const charts = ['chart.svg', ...Object.keys(ceilings).map((kind) => `ceiling-${kind}.svg`)].map((file) =>
      join(options.outDir, file),
    );
    say(`results: ${join(options.outDir, 'result.json')}, charts: ${charts.join(', ')}`);
    if (errors.length > 0) process.exitCode = 1;
  },
});
