import { readFileSync } from 'node:fs';
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';

describe('workflow bundle', () => {
  const bundle = readFileSync(WORKFLOW_BUNDLE_PATH, 'utf8');

  it.each(['zod', 'pino', 'nats', '@temporalio/client', '@temporalio/envconfig'])(
    'keeps %s out of the workflow sandbox (it would be instantiated per cached workflow)',
    (pkg) => {
      expect(bundle).not.toContain(`node_modules/${pkg}/`);
    },
  );

  it('contains the correlation workflow', () => {
    expect(bundle).toContain('function correlationWorkflow(');
  });
});
