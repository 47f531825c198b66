/**
 * No secret and no payload in the logs at info level: the real worker and bridge processes, with a
 * NATS password over TLS (deploy/nats/nats-server.conf) and a Temporal API key over TLS (a TLS proxy
 * in front of the dev server), decide a correlation whose signals carry a unique marker in a
 * free-text field, dead-letter bad messages that carry it too (not JSON, schema violation, subject
 * mismatch) and refuse a late one. Their log files must contain neither the secrets nor the marker.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import { bridgeProcess, compiledEntryPoint, workerProcess } from '../../src/devstack/local-stack';
import { type ManagedProcess, startTemporalDevServer, type TemporalDevServer } from '../../src/devstack/processes';
import { DLQ_STREAM, signalSubject } from '../../src/nats/streams';
import { withoutPayloadExcerpt } from '../../src/observability/logger';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisions } from '../support/decisions';
import { waitFor } from '../support/e2e-stack';
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { type SecureNats, startSecureNats, startTlsProxy, type TlsProxy } from '../support/secure-nats';
import { momentum, risk, uniqueCorrId } from '../support/signals';

// Starts with its random part: JSON.parse quotes only the first 10 characters of a bad message.
const MARKER = `zq${randomBytes(10).toString('hex')}`;
/** Enough of the marker to catch a truncated excerpt of it. */
const MARKER_PREFIX = MARKER.slice(0, 8);
const API_KEY = `api-key-${randomBytes(16).toString('hex')}`;

describe('log secrecy at info level', () => {
  let nats: SecureNats;
  let temporal: TemporalDevServer;
  let proxy: TlsProxy;
  let worker: ManagedProcess;
  let bridge: ManagedProcess;
  let temporalClient: Client;
  const agents: NatsConnection[] = [];
  const logDir = mkdtempSync(join(tmpdir(), 'orch-log-secrecy-'));

  beforeAll(async () => {
    [nats, temporal] = await Promise.all([startSecureNats(), startTemporalDevServer({ uiPort: false })]);
    proxy = await startTlsProxy(temporal.address, nats.pki);
    const common = {
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: nats.pki.caCert,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_API_KEY: API_KEY,
      ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
      ORCH_LOG_LEVEL: 'info',
    };
    worker = workerProcess({ ...common, ...nats.envFor('orchestrator-worker') }, join(logDir, 'worker.log'));
    bridge = bridgeProcess({ ...common, ...nats.envFor('orchestrator-bridge') }, join(logDir, 'bridge.log'));
    await Promise.all([worker.start(), bridge.start()]);
    temporalClient = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    for (const agent of ['momentum', 'risk'] as const)
      agents.push(await connect({ ...nats.optionsFor(agent), name: agent }));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((nc) => nc.close()));
    await temporalClient?.connection.close();
    await Promise.all([worker?.stop(), bridge?.stop()]);
    await proxy?.stop();
    await Promise.all([nats?.stop(), temporal?.stop()]);
  });

  it('neither the NATS password, the API key nor payload values reach the worker and bridge logs', async () => {
    const [momentumNc, riskNc] = agents;
    const publish = (nc: NatsConnection, agent: string, payload: unknown) =>
      nc
        .jetstream()
        .publish(
          signalSubject(agent),
          new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload)),
        );
    const corrId = uniqueCorrId('secret');
    const source_signal = { instrument: 'BTC/USD', headline: `${MARKER} headline` };

    await publish(
      momentumNc,
      'momentum',
      momentum(
        corrId,
        { trend_direction: 'bullish', momentum_strength: 0.8, confidence: 0.9, notes: `${MARKER} notes` },
        { source_signal },
      ),
    );
    await publish(
      riskNc,
      'risk',
      risk(corrId, { risk_level: 'medium', overall_score: 0.6, rationale: `${MARKER} rationale` }),
    );
    const decisions = await waitFor(`the decision of ${corrId}`, async () => {
      const found = await storedDecisions(nats.admin.jsm, corrId);
      return found.length > 0 ? found : undefined;
    });
    expect(decisions[0].decision.decision.action).toBe('trade');

    // Bad messages, each carrying the marker where the bridge's reason could quote it.
    await publish(momentumNc, 'momentum', `${MARKER} is not JSON`);
    await publish(momentumNc, 'momentum', `{"agent_name": "momentum", "corr_id": "${MARKER}`);
    await publish(momentumNc, 'momentum', momentum(uniqueCorrId('bad'), { confidence: MARKER as unknown as number }));
    await publish(momentumNc, 'momentum', { ...momentum(uniqueCorrId('bad')), analysis: MARKER });
    await publish(momentumNc, 'momentum', { ...momentum(`${MARKER}-corr`), corr_id: `${MARKER} not an id` });
    await publish(momentumNc, 'momentum', risk(uniqueCorrId('mismatch'), { risk_level: 'low', rationale: MARKER }));
    // A late signal: its correlation has closed.
    await temporalClient.workflow.getHandle(workflowIdFor(corrId)).result();
    await publish(momentumNc, 'momentum', momentum(corrId, { confidence: 0.5, notes: `${MARKER} late` }));
    await waitFor('7 DLQ entries', async () =>
      (await nats.admin.jsm.streams.info(DLQ_STREAM)).state.messages === 7 ? true : undefined,
    );

    // Stop the processes so their logs are complete.
    await Promise.all([worker.stop(), bridge.stop()]);
    const logs = {
      worker: readFileSync(join(logDir, 'worker.log'), 'utf8'),
      bridge: readFileSync(join(logDir, 'bridge.log'), 'utf8'),
    };

    // The logs say what happened (so the test looks at real logs)...
    expect(logs.worker).toContain('"msg":"decision published"');
    expect(logs.bridge).toContain('signal sent to the DLQ: not_json');
    expect(logs.bridge).toContain('signal sent to the DLQ: schema_violation');
    expect(logs.bridge).toContain('signal sent to the DLQ: subject_mismatch');
    expect(logs.bridge).toContain('signal sent to the DLQ: late');
    // ...but nothing secret, and no payload value.
    for (const [name, log] of Object.entries(logs)) {
      for (const [what, secret] of [
        ['the worker NATS password', nats.passwords['orchestrator-worker']],
        ['the bridge NATS password', nats.passwords['orchestrator-bridge']],
        ['the Temporal API key', API_KEY],
        ['the payload marker', MARKER_PREFIX],
      ]) {
        const at = log.indexOf(secret);
        expect({
          log: name,
          what,
          found: at >= 0 ? log.slice(Math.max(0, log.lastIndexOf('\n', at) + 1), log.indexOf('\n', at)) : undefined,
        }).toEqual({ log: name, what, found: undefined });
      }
    }
  });
});

describe('the logger itself', () => {
  it('redacts secret keys of any object it is given, at the top level and one level down', () => {
    const script = `require(${JSON.stringify(compiledEntryPoint('observability/logger'))}).createLogger('info', 't').info(
      { password: 's1', apiKey: 's2', nats: { pass: 's3', user: 'u' }, temporal: { api_key: 's4', authorization: 'Bearer s5' }, env: { NATS_PASSWORD: 's6', TEMPORAL_API_KEY: 's7' } }, 'settings')`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    const line = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(line).toMatchObject({
      password: '[redacted]',
      apiKey: '[redacted]',
      nats: { pass: '[redacted]', user: 'u' },
      temporal: { api_key: '[redacted]', authorization: '[redacted]' },
    });
    expect(line.env).toEqual({ NATS_PASSWORD: '[redacted]', TEMPORAL_API_KEY: '[redacted]' });
    expect(run.stdout).not.toMatch(/s[1-7]/);
  });

  it('drops the excerpt JSON.parse quotes from a DLQ detail, and leaves other details alone', () => {
    const parseError = (text: string): string => {
      try {
        JSON.parse(text);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    for (const text of ['secret text', 'x'.repeat(50), '{"a": secret}']) {
      const detail = parseError(text);
      expect(detail).toContain('is not valid JSON');
      expect(withoutPayloadExcerpt(detail)).toBe(
        'Unexpected token: not valid JSON (the excerpt of the message is not logged)',
      );
    }
    for (const detail of [
      parseError('{"a": "unterminated'),
      'analysis.confidence: Invalid input: expected number, received string',
      '70000 bytes; the limit is 65536',
    ]) {
      expect(withoutPayloadExcerpt(detail)).toBe(detail);
    }
  });
});
