/** `orch what-if` end to end on the dev engine (the Temporal CLI's dev server, one nats-server). */
import { whatIfCases } from './what-if.cases';

whatIfCases('dev');
