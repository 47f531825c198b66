/**
 * The local stack keeps its state on disk: a correlation in flight when the stack stops is decided
 * after the next start, and the web UI lists the correlations.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../src/devstack/local-stack';
import { getFreePort } from '../../src/devstack/processes';
import { signalSubject } from '../../src/nats/streams';
import { storedDecisions } from '../support/decisions';
import { waitFor } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';

async function startStack(options: LocalStackOptions): Promise<{ stack: LocalStack; nc: NatsConnection }> {
  const stack = await startLocalStack(options, () => undefined);
  const nc = await connect({ servers: stack.natsUrl });
  return { stack, nc };
}

it('resumes an in-flight correlation after a restart, and the UI lists it', async () => {
  const options: LocalStackOptions = {
    dataDir: mkdtempSync(join(tmpdir(), 'orch-resume-')),
    temporalPort: await getFreePort(),
    uiPort: await getFreePort(),
    natsPort: await getFreePort(),
  };
  const corrId = uniqueCorrId('resume');

  const first = await startStack(options);
  await waitFor('the SIGNALS stream', async () =>
    (await first.nc.jetstreamManager()).streams.info('SIGNALS').then(
      () => true,
      () => undefined,
    ),
  );
  await first.nc.jetstream().publish(signalSubject('momentum'), JSON.stringify(momentum(corrId)));
  const workflows = `${first.stack.uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="corr-${corrId}"`)}`;
  const listed = await waitFor('the UI to list the correlation', async () => {
    const body = (await (await fetch(workflows)).json()) as { executions?: Array<{ status: string }> };
    return body.executions?.[0];
  });
  expect(listed.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
  await first.nc.close();
  await first.stack.stop();

  const second = await startStack(options);
  try {
    await second.nc.jetstream().publish(signalSubject('risk'), JSON.stringify(risk(corrId)));
    const jsm = await second.nc.jetstreamManager();
    const [stored, ...extra] = await waitFor('the decision', async () => {
      const found = await storedDecisions(jsm, corrId);
      return found.length > 0 ? found : undefined;
    });
    expect(extra).toEqual([]);
    expect(stored.decision).toMatchObject({ contributing_agents: ['momentum', 'risk'], partial_data: false });
  } finally {
    await second.nc.close();
    await second.stack.stop();
  }
}, 120_000);
