/**
 * `orch what-if` end to end on the cluster engine: PostgreSQL, two Temporal server nodes behind one frontend address,
 * three NATS nodes with R3 streams.
 */
import { whatIfCases } from '../e2e/what-if.cases';

whatIfCases('cluster');
