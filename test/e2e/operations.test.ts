/**
 * The operator commands (replay, redrive, status) on the dev engine (the Temporal CLI's dev server, one nats-server).
 */
import { operationsCases } from './operations.cases';

operationsCases('dev');
