/**
 * The bridge's end-to-end cases on the cluster engine: PostgreSQL, two Temporal server nodes behind one frontend
 * address, three NATS nodes with R3 streams.
 */
import { bridgeCases } from '../e2e/bridge.cases';

bridgeCases('cluster');
