/** The bridge's end-to-end cases on the dev engine (the Temporal CLI's dev server, one nats-server). */
import { bridgeCases } from './bridge.cases';

bridgeCases('dev');
