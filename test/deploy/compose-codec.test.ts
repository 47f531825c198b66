/**
 * docker-compose.yml's payload encryption, run with the real programs instead of Docker: the
 * codec-keys step's own script writes the key file, the worker, the bridge and the codec server load
 * it with the real config loader, and the compiled codec server, started with the compose service's
 * settings, answers the UI as the browser calls it: from the UI's origins, at the UI's codec endpoint,
 * decrypting what the worker encrypted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { payloadCodecsOf } from '../../src/codec';
import { payloadFromJson, payloadToJson } from '../../src/codec/server';
import { loadConfig } from '../../src/config';
import { codecServerProcess } from '../../src/devstack/local-stack';
import { getFreePort, type ManagedProcess } from '../../src/devstack/processes';
import { REPO_ROOT } from '../support/paths';
import {
  CODEC_KEYS_SERVICE,
  CODEC_SERVER_SERVICE,
  composeEnv,
  composePorts,
  composeServices,
  IMAGES,
  ORCHESTRATOR_SERVICES,
  servicesWithImage,
} from './compose';
import { asArray, asObject, loadYaml } from './kustomize';

const execFileAsync = promisify(execFile);
const compose = asObject(loadYaml(join(REPO_ROOT, 'docker-compose.yml'))[0]);
const services = composeServices(compose);
const [[, ui]] = servicesWithImage(compose, IMAGES.ui);
/** The codec-keys step's script: `node -e <script>`. */
const [node, flag, keysScript] = asArray(services[CODEC_KEYS_SERVICE].command).map(String);

describe('docker-compose.yml: payload encryption and the codec server behind the UI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-compose-codec-'));
  const keysFile = join(dir, 'keys');
  /** A compose service's settings, its key file where this test keeps it. */
  const envOf = (service: string): Record<string, string> => ({
    ...composeEnv(services[service]),
    ORCH_CODEC_KEYS_FILE: keysFile,
  });
  let server: ManagedProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the codec-keys step writes one key, readable by its owner and group only, and keeps it on the next start', async () => {
    expect([node, flag]).toEqual(['node', '-e']);
    const run = () =>
      execFileAsync(process.execPath, ['-e', keysScript], { env: { ...process.env, ORCH_CODEC_KEYS_FILE: keysFile } });
    expect((await run()).stdout).toBe(`codec keys: wrote key compose-1 to ${keysFile}\n`);
    const written = readFileSync(keysFile, 'utf8');
    expect(written).toMatch(/^compose-1:[A-Za-z0-9+/]{43}=\n$/);
    expect(statSync(keysFile).mode & 0o777).toBe(0o440);
    expect((await run()).stdout).toBe(`codec keys: keeping ${keysFile}\n`);
    expect(readFileSync(keysFile, 'utf8')).toBe(written);
  });

  it('the worker, the bridge and the codec server load that key with the real config loader', () => {
    for (const service of [...ORCHESTRATOR_SERVICES, CODEC_SERVER_SERVICE]) {
      const { codec } = loadConfig(envOf(service));
      expect({ service, current: codec?.currentKeyId, keys: [...(codec?.keys.keys() ?? [])] }).toEqual({
        service,
        current: 'compose-1',
        keys: ['compose-1'],
      });
    }
  });

  it("the codec server, on its compose settings, lets the UI's origins in and decrypts at the UI's endpoint what the worker encrypted", async () => {
    // Its compose settings, but on this machine's loopback and a free port instead of the container's 0.0.0.0:8089.
    const port = await getFreePort();
    server = codecServerProcess(
      { ...envOf(CODEC_SERVER_SERVICE), ORCH_CODEC_SERVER_HOST: '127.0.0.1', ORCH_CODEC_SERVER_PORT: String(port) },
      join(dir, 'codec-server.log'),
    );
    await server.start();
    const endpoint = new URL(composeEnv(ui).TEMPORAL_CODEC_ENDPOINT);
    endpoint.port = String(port);
    const namespace = composeEnv(services.worker).TEMPORAL_NAMESPACE;

    const [codec] = payloadCodecsOf(loadConfig(envOf('worker')).temporal.dataConverter);
    const decision = { corr_id: 'compose-1', decision: { action: 'trade' } };
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(decision)]);
    expect(Buffer.from(encrypted.data ?? []).toString()).not.toContain('trade');

    const origins = composePorts(ui).flatMap(({ hostPort }) => [
      `http://localhost:${hostPort}`,
      `http://127.0.0.1:${hostPort}`,
    ]);
    expect(origins).toEqual(['http://localhost:8080', 'http://127.0.0.1:8080']);
    for (const origin of origins) {
      const preflight = await fetch(`${endpoint.href.replace(/\/$/, '')}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
      expect({
        origin,
        status: preflight.status,
        allowed: preflight.headers.get('access-control-allow-origin'),
      }).toEqual({ origin, status: 204, allowed: origin });
      const response = await fetch(`${endpoint.href.replace(/\/$/, '')}/decode`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', 'x-namespace': namespace },
        body: JSON.stringify({ payloads: [payloadToJson(encrypted)] }),
      });
      expect(response.status).toBe(200);
      const { payloads } = (await response.json()) as { payloads: unknown[] };
      expect(defaultPayloadConverter.fromPayload(payloadFromJson(payloads[0], 0))).toEqual(decision);
    }
  });
});
