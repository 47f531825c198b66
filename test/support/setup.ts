import { DefaultLogger, Runtime } from '@temporalio/worker';
import { killAllManagedProcesses } from '../../src/devstack/processes';

// The SDK logs every worker state change at INFO; tests only want to see warnings and errors.
Runtime.install({ logger: new DefaultLogger('WARN') });

// Jest gives each test file its own `process`, whose 'exit' hook never fires: a server a failed
// suite did not stop would outlive the run and hold its ports.
afterAll(killAllManagedProcesses);
