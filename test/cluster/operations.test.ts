/**
 * The operator commands (replay, redrive, status) on the cluster engine: PostgreSQL, two Temporal server nodes behind
 * one frontend address, three NATS nodes with R3 streams.
 */
import { operationsCases } from '../e2e/operations.cases';

operationsCases('cluster');
