/**
 * A chaos scenario from start to end: the stack, the ledger and the load; the scenario's faults
 * while the load runs; the verification and the report; the stack stopped (its data kept when
 * something is wrong).
 */
import { loadavg } from 'node:os';
import { pollUntil } from '../poll';
import { FaultLog } from './faults';
import { finishAndVerify, type VerifyOptions } from './finish';
import { DecisionLedger } from './ledger';
import { ChaosLoad } from './load';
import { SEED } from './random';
import { type ChaosReport, summary } from './report';
import { type ChaosStack, type ChaosStackOptions, startChaosStack } from './stack';

export interface ScenarioContext {
  stack: ChaosStack;
  load: ChaosLoad;
  ledger: DecisionLedger;
  faults: FaultLog;
}

interface ScenarioOptions extends ChaosStackOptions {
  /** Correlations per second of the load. */
  rate: number;
  /** The load runs at least until this many correlations have begun. */
  minCorrelations: number;
  partialShare?: number;
  agentSpreadMs?: number;
  riskFirst?: boolean;
  /** Injects the faults while the load runs. */
  chaos: (ctx: ScenarioContext) => Promise<void>;
  /** Decisions that must be flowing before the first fault. */
  warmupDecisions?: number;
  verify?:
    | Partial<Pick<VerifyOptions, 'isDeliberateDlq' | 'otherCorrelations' | 'extra'>>
    | ((ctx: ScenarioContext) => Partial<Pick<VerifyOptions, 'isDeliberateDlq' | 'otherCorrelations' | 'extra'>>);
}

/**
 * Starts the stack, the ledger and the load; lets decisions flow; runs `chaos`; keeps the load on
 * until `minCorrelations` have begun and for a moment after the last fault; verifies; stops the
 * stack (keeping its data folder when something is wrong) and returns the report.
 */
export async function runScenario(options: ScenarioOptions): Promise<ChaosReport> {
  console.log(`[chaos ${options.scenario}] seed ${SEED}; replay its choices with ORCH_CHAOS_SEED=${SEED}`);
  const startedAt = Date.now();
  const loadavgStart = loadavg();
  const stack = await startChaosStack(options);
  let report: ChaosReport | undefined;
  let running: ChaosLoad | undefined;
  try {
    const ledger = await DecisionLedger.start(stack.nc, stack.js);
    const prefix = `${options.scenario}-${Date.now().toString(36)}-`;
    const load = new ChaosLoad(stack.js, {
      prefix,
      correlationsPerSecond: options.rate,
      partialShare: options.partialShare ?? 0.2,
      agentSpreadMs: options.agentSpreadMs,
      riskFirst: options.riskFirst,
    });
    running = load;
    const faults = new FaultLog();
    const ctx = { stack, load, ledger, faults };
    load.start();
    const warmup = options.warmupDecisions ?? 10;
    await pollUntil(
      `${warmup} decisions before the first fault`,
      () => (ledger.arrivals.length >= warmup ? true : undefined),
      60_000,
    );
    await options.chaos(ctx);
    const tailUntil = Date.now() + 2_000;
    await pollUntil(
      `${options.minCorrelations} correlations published`,
      () => (load.started >= options.minCorrelations && Date.now() >= tailUntil ? true : undefined),
      300_000,
      50,
    );
    const verify = typeof options.verify === 'function' ? options.verify(ctx) : (options.verify ?? {});
    report = await finishAndVerify({
      ...ctx,
      ...verify,
      policyTimeoutMs: Number(options.policy.timeout_ms),
      startedAt,
      loadavgStart,
    });
    console.log(summary(report));
    return report;
  } finally {
    await running?.abort();
    const healthy = report !== undefined && report.problems.length === 0;
    // ORCH_CHAOS_KEEP=1 keeps the logs and data of a passing run too.
    await stack.stop(!healthy || process.env.ORCH_CHAOS_KEEP === '1');
    if (!healthy || process.env.ORCH_CHAOS_KEEP === '1')
      console.log(`[chaos ${options.scenario}] data and logs kept in ${stack.dir}`);
  }
}
