/**
 * The chaos suite's harness, what the scenarios in test/chaos and test/chaos-cluster import. Each
 * part is its own module:
 * - scale.ts: ORCH_CHAOS_SCALE, `ci` or `full`, and the figures that depend on it;
 * - random.ts: the seed (ORCH_CHAOS_SEED replays a run) and every random choice drawn from it;
 * - stack.ts: the real local stack on the dev or the cluster engine, the compiled worker and
 *   bridge, the TCP proxies between them and the servers, and the test's own connections;
 * - load.ts: a steady load of agent signals, and the record of what was published;
 * - ledger.ts: every decision JetStream stored, as it arrives;
 * - faults.ts: the fault log, the wait for a fault's backlog to drain, and each fault's figures;
 * - cluster-faults.ts: the cluster engine's own faults (a NATS node partitioned, a stream's leader);
 * - verify.ts: the verifier, pure: every correlation decided exactly once, on exactly the signals
 *   published for it;
 * - finish.ts: the end of a run: settle, read what was stored, verify, write the report;
 * - report.ts: the figures each scenario writes to .cache/chaos/<scenario>.json;
 * - scenario.ts: a scenario from start to end.
 */
export { healNatsPartition, decidedWhileDown, partitionNatsNode, streamLeader } from './cluster-faults';
export { waitDrained } from './faults';
export { random, randomBetween } from './random';
export { type ChaosReport, expectNothingLostNothingDuplicated } from './report';
export { SCALE, scaled } from './scale';
export { runScenario, type ScenarioContext } from './scenario';
export { BRIDGE_DURABLE, bridgeConsumerIdle, clusterEngineOf, devEngineOf, redeliveries, runOrchCli } from './stack';
export { decisionNobodyPublished, type Problem, type StoredEntry } from './verify';
export { pollUntil, sleep } from '../poll';
