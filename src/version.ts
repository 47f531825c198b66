import { version } from '../package.json';

/** Recorded on every decision as `orchestrator_version`. */
export const ORCHESTRATOR_VERSION: string = version;
