/**
 * The optional KEDA component for the bridges (deploy/components/bridge-keda) on each overlay: KEDA
 * owns the bridge count, and the `nats-jetstream` trigger names the bridges' durable consumer. On a
 * real nats-server running deploy/nats/nats-server.conf, the trigger's account, stream and consumer
 * find that consumer in the monitoring endpoint's /jsz as KEDA's scaler asks for it, with the lag
 * it scales on.
 */
import { readFileSync, rmSync } from 'node:fs';
import { AckPolicy } from 'nats';
import { loadConfig } from '../../src/config';
import {
  declareSignalsStream,
  reconcileStream,
  SIGNAL_SUBJECTS,
  SIGNALS_STREAM,
  signalSubject,
} from '../../src/nats/streams';
import { PRODUCTION_NATS_CONFIG, type SecureNats, startSecureNats } from '../support/secure-nats';
import {
  asArray,
  asObject,
  build,
  type Build,
  type JsonObject,
  type K8sObject,
  podContainers,
  tempKustomization,
} from './kustomize';

const COMPONENT = 'deploy/components/bridge-keda';
const OVERLAYS = ['deploy/overlays/dev', 'deploy/overlays/prod'];

/** An overlay with the component, as the component's kustomization.yaml says to use it. */
function withComponent(overlay: string): Build {
  const dir = tempKustomization({ resources: [overlay], components: [COMPONENT] });
  try {
    return build(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const find = (rendered: Build, kind: string, name: string): K8sObject => {
  const object = rendered.objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`no ${kind} ${name} in ${rendered.dir}`);
  return object;
};

/** The bridge's settings as its container gets them from orchestrator-config (envFrom). */
function bridgeConfig(rendered: Build): ReturnType<typeof loadConfig> {
  const [container] = podContainers(find(rendered, 'Deployment', 'orchestrator-bridge'));
  const configMap = asArray(container.envFrom).map((source) => String(asObject(asObject(source).configMapRef).name));
  const env = Object.assign({}, ...configMap.map((name) => asObject(find(rendered, 'ConfigMap', name).data))) as Record<
    string,
    string
  >;
  return loadConfig({ ...env, ORCH_POLICY_FILE: undefined, NATS_CREDS_FILE: undefined, NATS_TLS_CA_FILE: undefined });
}

function trigger(rendered: Build): JsonObject {
  const [only, ...others] = asArray(asObject(find(rendered, 'ScaledObject', 'orchestrator-bridge').spec).triggers).map(
    asObject,
  );
  expect(others).toEqual([]);
  expect(only.type).toBe('nats-jetstream');
  return asObject(only.metadata);
}

describe.each(OVERLAYS)(`${COMPONENT} on %s`, (overlay) => {
  const rendered = withComponent(overlay);

  it('KEDA owns the bridge count (no replicas in the Deployment), between two and what the consumer lets hold messages', () => {
    const bridge = find(rendered, 'Deployment', 'orchestrator-bridge');
    expect(asObject(bridge.spec).replicas).toBeUndefined();
    const spec = asObject(find(rendered, 'ScaledObject', 'orchestrator-bridge').spec);
    expect(asObject(spec.scaleTargetRef).name).toBe(bridge.metadata.name);
    const { bridge: settings } = bridgeConfig(rendered);
    expect(Number(spec.minReplicaCount)).toBe(2);
    // Past maxAckPending / concurrency bridges, the extra ones would only wait on the consumer.
    expect(Number(spec.maxReplicaCount) * settings.concurrency).toBeLessThanOrEqual(settings.maxAckPending);
    expect(Number(spec.maxReplicaCount)).toBeGreaterThan(Number(spec.minReplicaCount));
  });

  it("the trigger watches the bridges' own durable consumer on SIGNALS, a window of in-flight messages or more per bridge", () => {
    const metadata = trigger(rendered);
    const { bridge: settings } = bridgeConfig(rendered);
    expect(metadata).toMatchObject({ stream: SIGNALS_STREAM, consumer: settings.durableName });
    expect(Number(metadata.lagThreshold)).toBeGreaterThanOrEqual(settings.concurrency);
  });
});

describe(`${COMPONENT}: the trigger against a real nats-server on deploy/nats/nats-server.conf`, () => {
  const metadata = trigger(withComponent('deploy/overlays/prod'));
  let nats: SecureNats;
  beforeAll(async () => {
    nats = await startSecureNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('asks the monitoring port the server configures', () => {
    const monitoring = /^http: \S*:(\d+)$/m.exec(readFileSync(PRODUCTION_NATS_CONFIG, 'utf8'))?.[1];
    expect(String(metadata.natsServerMonitoringEndpoint).split(':').at(-1)).toBe(monitoring);
  });

  it("finds the bridges' consumer by account, stream and consumer in /jsz, as KEDA asks, with its lag: pending plus unacknowledged", async () => {
    const { jsm, js } = nats.admin;
    const config = loadConfig({});
    await reconcileStream(jsm, declareSignalsStream(config.streams));
    await jsm.consumers.add(SIGNALS_STREAM, {
      durable_name: String(metadata.consumer),
      ack_policy: AckPolicy.Explicit,
      filter_subject: SIGNAL_SUBJECTS,
    });
    for (let i = 0; i < 5; i++) await js.publish(signalSubject('momentum'), JSON.stringify({ i }));
    // Two delivered to a bridge and not acknowledged yet, three still pending.
    const consumer = await js.consumers.get(SIGNALS_STREAM, String(metadata.consumer));
    const delivered: number[] = [];
    for await (const message of await consumer.fetch({ max_messages: 2, expires: 5_000 })) delivered.push(message.seq);
    expect(delivered).toEqual([1, 2]);

    // KEDA's request (pkg/scalers/nats_jetstream_scaler.go): /jsz?acc=<account>&consumers=true&config=true.
    const query = new URLSearchParams({ acc: String(metadata.account), consumers: 'true', config: 'true' });
    const jsz = (await (await fetch(`${nats.server.monitorUrl}/jsz?${query}`)).json()) as {
      account_details?: {
        id: string;
        name: string;
        stream_detail?: {
          name: string;
          consumer_detail?: { name: string; num_pending: number; num_ack_pending: number }[];
        }[];
      }[];
    };
    const account = jsz.account_details?.find((a) => a.id === metadata.account || a.name === metadata.account);
    const stream = account?.stream_detail?.find((s) => s.name === metadata.stream);
    const found = stream?.consumer_detail?.find((c) => c.name === metadata.consumer);
    expect({ account: account?.name, stream: stream?.name, consumer: found?.name }).toEqual({
      account: metadata.account,
      stream: SIGNALS_STREAM,
      consumer: metadata.consumer,
    });
    expect({ pending: found?.num_pending, unacknowledged: found?.num_ack_pending }).toEqual({
      pending: 3,
      unacknowledged: 2,
    });
  });
});
