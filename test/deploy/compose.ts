/**
 * docker-compose.yml checked against what `npm start -- --engine cluster` runs, without a Docker
 * engine: the Temporal server nodes on deploy/temporal/config and its dynamic configuration, the
 * schema and namespace steps, the NATS nodes on deploy/nats/cluster.conf, the orchestrator at R3,
 * payload encryption with the codec server behind the UI, the images at the versions
 * scripts/install-tools.sh builds.
 *
 * Each check returns its problems, one line each starting with the service it is about: none when
 * the file is right. The tests expect none, and break a copy of the file in each way a check is
 * meant to catch, to see that it does.
 */
import { posix } from 'node:path';
import { asArray, asObject, imageName, imageTag, type Json, type JsonObject } from './kustomize';

/** What the compose file must agree with: the cluster engine's files and sizes, the pinned versions. */
export interface ClusterFacts {
  /** Paths relative to the repository root. */
  temporalConfigDir: string;
  temporalDynamicConfigFile: string;
  setupSchemaScript: string;
  setupNamespaceScript: string;
  natsClusterConfig: string;
  temporalNodeCount: number;
  natsNodeNames: string[];
  namespaceRetention: string;
  versions: { temporalServer: string; temporalUi: string; natsServer: string; postgresMajor: string };
}

export const IMAGES = {
  temporalServer: 'temporalio/server',
  adminTools: 'temporalio/admin-tools',
  ui: 'temporalio/ui',
  autoSetup: 'temporalio/auto-setup',
  nats: 'nats',
  postgres: 'postgres',
} as const;

export const SCHEMA_SERVICE = 'temporal-schema';
export const NAMESPACE_SERVICE = 'temporal-namespace';
export const ORCHESTRATOR_SERVICES = ['worker', 'bridge'];
export const CODEC_KEYS_SERVICE = 'codec-keys';
export const CODEC_SERVER_SERVICE = 'codec-server';
const TEMPORAL_SQL_SETTINGS = ['TEMPORAL_SQL_HOST', 'TEMPORAL_SQL_PORT', 'TEMPORAL_SQL_USER', 'TEMPORAL_SQL_PASSWORD'];
const NATS_CLIENT_PORT = 4222;

export function composeServices(compose: JsonObject): Record<string, JsonObject> {
  return Object.fromEntries(
    Object.entries(asObject(compose.services)).map(([name, service]) => [name, asObject(service)]),
  );
}

export function composeEnv(service: JsonObject): Record<string, string> {
  const environment = service.environment;
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map(String).map((entry) => [entry.split('=')[0], entry.slice(entry.indexOf('=') + 1)]),
    );
  }
  return Object.fromEntries(Object.entries(asObject(environment)).map(([key, value]) => [key, String(value)]));
}

/** The services running an image (any tag), by name. */
export function servicesWithImage(compose: JsonObject, image: string): [string, JsonObject][] {
  return Object.entries(composeServices(compose))
    .filter(([, service]) => typeof service.image === 'string' && imageName(service.image) === image)
    .sort(([a], [b]) => a.localeCompare(b));
}

export interface Mount {
  /** A bind mount's host path relative to the repository root (posix), or a named volume's name. */
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}

/** The service's `volumes` (short syntax, `source:target[:mode]`). */
export function composeMounts(service: JsonObject): Mount[] {
  return asArray(service.volumes).map((entry) => {
    const [source, target, mode] = String(entry).split(':');
    const bind = source.startsWith('.') || source.startsWith('/');
    return {
      source: bind ? posix.normalize(source) : source,
      target: target ?? '',
      readOnly: (mode ?? '').split(',').includes('ro'),
      bind,
    };
  });
}

/** The host file (relative to the repository) that a path inside the container comes from, through a bind mount. */
export function hostPathOf(service: JsonObject, containerPath: string): string | undefined {
  for (const mount of composeMounts(service).filter((m) => m.bind)) {
    if (containerPath === mount.target) return mount.source;
    if (containerPath.startsWith(`${mount.target}/`))
      return posix.join(mount.source, containerPath.slice(mount.target.length + 1));
  }
  return undefined;
}

/** A published port (short syntax, `[host ip:]host port:container port`). */
export function composePorts(service: JsonObject): { hostIp?: string; hostPort: number; containerPort: number }[] {
  return asArray(service.ports).map((entry) => {
    const parts = String(entry).split(':');
    const [containerPort, hostPort, hostIp] = [...parts].reverse();
    return {
      ...(hostIp ? { hostIp } : {}),
      hostPort: Number(hostPort ?? containerPort),
      containerPort: Number(containerPort),
    };
  });
}

/** The mount holding a file, and the file's path below the mount. */
function mountHolding(service: JsonObject, file: string): Mount | undefined {
  return composeMounts(service).find((m) => file.startsWith(`${m.target}/`));
}

/** The value after `flag` in an argument list. */
export function flagValue(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
}

function strings(value: Json | undefined): string[] {
  return asArray(value).map(String);
}

function dependsOn(service: JsonObject): Record<string, string | undefined> {
  const raw = service.depends_on;
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((name) => [String(name), 'service_started']));
  return Object.fromEntries(
    Object.entries(asObject(raw)).map(([name, entry]) => [name, asObject(entry).condition as string | undefined]),
  );
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function inCidr(address: string, cidr: string | undefined): boolean {
  const [base, bits] = (cidr ?? '').split('/');
  const ip = ipv4(address);
  const network = ipv4(base ?? '');
  if (ip === undefined || network === undefined || !/^\d+$/.test(bits ?? '')) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ip / size) === Math.floor(network / size);
}

// ------------------------------------------------------------------------------------- the checks

/** Each Temporal node: the server on the engine's configuration and dynamic configuration, at its own IP. */
export function temporalServerProblems(compose: JsonObject, facts: ClusterFacts): string[] {
  const problems: string[] = [];
  const nodes = servicesWithImage(compose, IMAGES.temporalServer);
  if (nodes.length !== facts.temporalNodeCount)
    problems.push(
      `${IMAGES.temporalServer}: ${nodes.length} services run it, the cluster engine runs ${facts.temporalNodeCount} nodes`,
    );
  const networks = asObject(compose.networks);
  const aliasesOf = (service: JsonObject): string[] =>
    Object.values(asObject(service.networks)).flatMap((n) => strings(asObject(n).aliases));
  const broadcast = new Set<string>();
  nodes.forEach(([name, node], index) => {
    const entrypoint = strings(node.entrypoint);
    const configDir = flagValue(entrypoint, '--config') ?? '';
    const expected = [
      'temporal-server',
      '--root',
      '/',
      '--config',
      configDir,
      '--env',
      'cluster',
      '--allow-no-auth',
      'start',
    ];
    if (entrypoint.join(' ') !== expected.join(' '))
      problems.push(`${name}: entrypoint ${JSON.stringify(entrypoint)}, not ${JSON.stringify(expected)}`);

    const env = composeEnv(node);
    const mounts = composeMounts(node);
    const dynamicConfigDir = posix.dirname(facts.temporalDynamicConfigFile);
    const wanted = [facts.temporalConfigDir, dynamicConfigDir].sort();
    if (
      mounts
        .map((m) => m.source)
        .sort()
        .join(' ') !== wanted.join(' ') ||
      !mounts.every((m) => m.bind && m.readOnly)
    ) {
      problems.push(
        `${name}: volumes ${JSON.stringify(node.volumes ?? [])}, not exactly ${wanted.join(' and ')} read-only`,
      );
    }
    if (hostPathOf(node, configDir) !== facts.temporalConfigDir)
      problems.push(`${name}: --config ${configDir} is not ${facts.temporalConfigDir} mounted`);
    const dynamicConfig = env.TEMPORAL_DYNAMIC_CONFIG_FILE ?? '';
    if (hostPathOf(node, dynamicConfig) !== facts.temporalDynamicConfigFile)
      problems.push(
        `${name}: TEMPORAL_DYNAMIC_CONFIG_FILE ${dynamicConfig} is not ${facts.temporalDynamicConfigFile} mounted`,
      );

    if (env.TEMPORAL_BIND_IP !== '0.0.0.0')
      problems.push(
        `${name}: TEMPORAL_BIND_IP ${env.TEMPORAL_BIND_IP}, not 0.0.0.0 (the other node and the clients come from outside the container)`,
      );
    const address = env.TEMPORAL_BROADCAST_ADDRESS ?? '';
    const attachments = Object.entries(asObject(node.networks)).map(([network, settings]) => ({
      network,
      ip: asObject(settings).ipv4_address,
    }));
    const own = attachments.find((a) => a.ip === address);
    if (!own) {
      problems.push(
        `${name}: TEMPORAL_BROADCAST_ADDRESS ${address || '(unset)'} is not the fixed ipv4_address of the node on a network`,
      );
    } else {
      const ipam = asArray(asObject(asObject(networks[own.network]).ipam).config).map(asObject)[0] ?? {};
      if (!inCidr(address, ipam.subnet as string | undefined))
        problems.push(`${name}: ${address} is outside network ${own.network}'s subnet ${String(ipam.subnet)}`);
      if (ipam.ip_range === undefined || inCidr(address, ipam.ip_range as string))
        problems.push(
          `${name}: ${address} is inside the range Docker gives other containers (set ip_range to exclude it)`,
        );
    }
    if (broadcast.has(address)) problems.push(`${name}: TEMPORAL_BROADCAST_ADDRESS ${address} is another node's too`);
    broadcast.add(address);

    const [frontendHost] = (env.TEMPORAL_FRONTEND_ADDRESS ?? '').split(':');
    const everyNodeAnswers =
      nodes.every(([, other]) => aliasesOf(other).includes(frontendHost)) ||
      nodes.some(([other]) => other === frontendHost);
    if (!everyNodeAnswers)
      problems.push(
        `${name}: TEMPORAL_FRONTEND_ADDRESS ${env.TEMPORAL_FRONTEND_ADDRESS} names neither a node nor an alias of every node`,
      );
    for (const setting of TEMPORAL_SQL_SETTINGS) if (!env[setting]) problems.push(`${name}: ${setting} unset`);

    const healthcheck = strings(asObject(node.healthcheck).test).join(' ');
    if (!healthcheck.includes('temporal operator cluster health'))
      problems.push(`${name}: the healthcheck is not \`temporal operator cluster health\``);
    if (node.restart !== 'unless-stopped')
      problems.push(`${name}: restart ${String(node.restart)}, not unless-stopped`);

    const after = dependsOn(node);
    if (after[SCHEMA_SERVICE] !== 'service_completed_successfully')
      problems.push(`${name}: does not wait for ${SCHEMA_SERVICE} to complete`);
    // Nodes starting together race to write the cluster's metadata on a new database.
    const previous = nodes[index - 1]?.[0];
    if (previous && after[previous] !== 'service_healthy')
      problems.push(`${name}: does not wait for ${previous} to be healthy`);
  });
  return problems;
}

/** The one-shot admin-tools steps: the schema before the servers, the namespace after them. */
export function temporalSetupProblems(compose: JsonObject, facts: ClusterFacts): string[] {
  const problems: string[] = [];
  const services = composeServices(compose);
  const nodes = servicesWithImage(compose, IMAGES.temporalServer);
  const steps = [
    { name: SCHEMA_SERVICE, script: facts.setupSchemaScript, after: { postgres: 'service_healthy' } },
    {
      name: NAMESPACE_SERVICE,
      script: facts.setupNamespaceScript,
      after: Object.fromEntries(nodes.map(([node]) => [node, 'service_healthy'])),
    },
  ];
  for (const step of steps) {
    const service = services[step.name];
    if (!service) {
      problems.push(`${step.name}: no such service (it runs ${step.script})`);
      continue;
    }
    if (typeof service.image !== 'string' || imageName(service.image) !== IMAGES.adminTools)
      problems.push(`${step.name}: image ${String(service.image)}, not ${IMAGES.adminTools}`);
    const entrypoint = strings(service.entrypoint);
    const script = entrypoint[0] === 'bash' && entrypoint.length === 2 ? hostPathOf(service, entrypoint[1]) : undefined;
    if (script !== step.script)
      problems.push(
        `${step.name}: entrypoint ${JSON.stringify(entrypoint)} does not run ${step.script} (mounted) with bash`,
      );
    if (!composeMounts(service).every((m) => m.readOnly)) problems.push(`${step.name}: a volume is not read-only`);
    if (service.restart !== 'no')
      problems.push(`${step.name}: restart ${String(service.restart)}, not "no" (a one-shot step)`);
    const after = dependsOn(service);
    for (const [dependency, condition] of Object.entries(step.after)) {
      if (after[dependency] !== condition)
        problems.push(`${step.name}: does not wait for ${dependency} (${condition})`);
    }
  }

  const schema = services[SCHEMA_SERVICE];
  const postgres = services.postgres;
  if (schema && postgres) {
    const env = composeEnv(schema);
    const pg = composeEnv(postgres);
    const expected = {
      TEMPORAL_SQL_HOST: 'postgres',
      TEMPORAL_SQL_USER: pg.POSTGRES_USER,
      TEMPORAL_SQL_PASSWORD: pg.POSTGRES_PASSWORD,
    };
    for (const [setting, value] of Object.entries(expected))
      if (env[setting] !== value) problems.push(`${SCHEMA_SERVICE}: ${setting} ${env[setting]}, not ${value}`);
    for (const [node, service] of nodes) {
      const nodeEnv = composeEnv(service);
      for (const setting of TEMPORAL_SQL_SETTINGS)
        if (nodeEnv[setting] !== env[setting])
          problems.push(`${node}: ${setting} ${nodeEnv[setting]}, ${SCHEMA_SERVICE} has ${env[setting]}`);
    }
  }
  const namespace = services[NAMESPACE_SERVICE];
  if (namespace) {
    const env = composeEnv(namespace);
    const frontends = new Set(nodes.map(([, service]) => composeEnv(service).TEMPORAL_FRONTEND_ADDRESS));
    if (!frontends.has(env.TEMPORAL_ADDRESS))
      problems.push(
        `${NAMESPACE_SERVICE}: TEMPORAL_ADDRESS ${env.TEMPORAL_ADDRESS} is not the nodes' frontend address`,
      );
    if (env.TEMPORAL_NAMESPACE_RETENTION !== facts.namespaceRetention)
      problems.push(
        `${NAMESPACE_SERVICE}: TEMPORAL_NAMESPACE_RETENTION ${env.TEMPORAL_NAMESPACE_RETENTION}, the cluster engine's is ${facts.namespaceRetention}`,
      );
  }
  return problems;
}

/** Each NATS node: deploy/nats/cluster.conf, its own name and store, routes to every node. */
export function natsProblems(compose: JsonObject, facts: ClusterFacts): string[] {
  const problems: string[] = [];
  const nodes = servicesWithImage(compose, IMAGES.nats);
  const names = nodes.map(([name]) => name);
  if (names.join(' ') !== facts.natsNodeNames.join(' '))
    problems.push(
      `${IMAGES.nats}: services ${names.join(', ')}, the cluster engine runs ${facts.natsNodeNames.join(', ')}`,
    );
  const stores = new Set<string>();
  for (const [name, node] of nodes) {
    const command = strings(node.command);
    const mounts = composeMounts(node);
    const config = flagValue(command, '-c') ?? '';
    if (hostPathOf(node, config) !== facts.natsClusterConfig || !mounts.find((m) => m.target === config)?.readOnly) {
      problems.push(`${name}: -c ${config || '(none)'} is not ${facts.natsClusterConfig} mounted read-only`);
    }
    if (flagValue(command, '-n') !== name)
      problems.push(`${name}: -n ${flagValue(command, '-n')}, not its service name`);
    if (!command.includes('-js')) problems.push(`${name}: no -js`);
    const store = flagValue(command, '-sd') ?? '';
    const volume = mounts.find((m) => m.target === store && !m.bind);
    if (!volume) problems.push(`${name}: -sd ${store || '(none)'} is not a named volume`);
    else if (stores.has(volume.source))
      problems.push(`${name}: shares its store volume ${volume.source} with another node`);
    else stores.add(volume.source);
    const clusterPort = /^nats:\/\/0\.0\.0\.0:(\d+)$/.exec(flagValue(command, '--cluster') ?? '')?.[1];
    if (!clusterPort) problems.push(`${name}: --cluster ${flagValue(command, '--cluster')}, not nats://0.0.0.0:<port>`);
    const routes = (flagValue(command, '--routes') ?? '').split(',').filter(Boolean).sort();
    const wanted = facts.natsNodeNames.map((node) => `nats://${node}:${clusterPort}`).sort();
    if (routes.join(',') !== wanted.join(','))
      problems.push(`${name}: --routes ${routes.join(',')}, not ${wanted.join(',')}`);
    const monitor = flagValue(command, '-m');
    if (!strings(asObject(node.healthcheck).test).join(' ').includes(`:${monitor}/healthz`))
      problems.push(`${name}: the healthcheck does not ask /healthz on -m ${monitor}`);
    if (node.restart !== 'unless-stopped')
      problems.push(`${name}: restart ${String(node.restart)}, not unless-stopped`);
  }
  return problems;
}

/** The worker and the bridge: every NATS node, streams at three replicas, the Temporal frontends. */
export function orchestratorProblems(compose: JsonObject, facts: ClusterFacts): string[] {
  const problems: string[] = [];
  const services = composeServices(compose);
  const natsUrls = servicesWithImage(compose, IMAGES.nats).map(([name]) => `nats://${name}:${NATS_CLIENT_PORT}`);
  const temporalNodes = servicesWithImage(compose, IMAGES.temporalServer);
  const frontends = new Set(temporalNodes.map(([, service]) => composeEnv(service).TEMPORAL_FRONTEND_ADDRESS));
  for (const name of ORCHESTRATOR_SERVICES) {
    const service = services[name];
    if (!service) {
      problems.push(`${name}: no such service`);
      continue;
    }
    const env = composeEnv(service);
    const replicas = String(facts.natsNodeNames.length);
    if (env.ORCH_NATS_REPLICAS !== replicas)
      problems.push(
        `${name}: ORCH_NATS_REPLICAS ${env.ORCH_NATS_REPLICAS ?? '(unset)'}, not "${replicas}" (one replica per NATS node)`,
      );
    const servers = (env.NATS_URL ?? '')
      .split(',')
      .map((s) => s.trim())
      .sort();
    if (servers.join(',') !== [...natsUrls].sort().join(','))
      problems.push(`${name}: NATS_URL ${env.NATS_URL}, not every NATS node (${natsUrls.join(',')})`);
    if (!frontends.has(env.TEMPORAL_ADDRESS))
      problems.push(`${name}: TEMPORAL_ADDRESS ${env.TEMPORAL_ADDRESS} is not the Temporal nodes' frontend address`);
    const after = dependsOn(service);
    const healthy = [
      ...temporalNodes.map(([node]) => node),
      ...servicesWithImage(compose, IMAGES.nats).map(([node]) => node),
    ];
    for (const dependency of healthy)
      if (after[dependency] !== 'service_healthy')
        problems.push(`${name}: does not wait for ${dependency} to be healthy`);
    if (after[NAMESPACE_SERVICE] !== 'service_completed_successfully')
      problems.push(`${name}: does not wait for ${NAMESPACE_SERVICE} to complete`);
  }
  return problems;
}

/** Pinned images at the versions the tests run: scripts/install-tools.sh's and POSTGRES_MAJOR. */
export function imageProblems(compose: JsonObject, facts: ClusterFacts): string[] {
  const problems: string[] = [];
  const { temporalServer, temporalUi, natsServer, postgresMajor } = facts.versions;
  const expected: Record<string, (tag: string) => boolean> = {
    [IMAGES.temporalServer]: (tag) => tag === temporalServer,
    [IMAGES.adminTools]: (tag) => tag.startsWith(`${temporalServer}-`),
    [IMAGES.ui]: (tag) => tag === temporalUi,
    [IMAGES.nats]: (tag) => tag === natsServer || tag.startsWith(`${natsServer}-`),
    [IMAGES.postgres]: (tag) => new RegExp(`^${postgresMajor}\\.\\d+$`).test(tag),
  };
  for (const [name, service] of Object.entries(composeServices(compose))) {
    if (service.image === undefined) continue;
    const image = String(service.image);
    const tag = imageTag(image) ?? '';
    if (imageName(image) === IMAGES.autoSetup)
      problems.push(`${name}: ${image} is deprecated: the server image with an explicit schema step instead`);
    if (!/^\d+\.\d+(\.\d+)?/.test(tag)) problems.push(`${name}: ${image} is not pinned to a version`);
    const matches = expected[imageName(image)];
    if (matches && !matches(tag))
      problems.push(`${name}: ${image} is not the version the tests run (scripts/install-tools.sh)`);
  }
  for (const image of [IMAGES.temporalServer, IMAGES.adminTools, IMAGES.ui, IMAGES.nats, IMAGES.postgres]) {
    if (servicesWithImage(compose, image).length === 0) problems.push(`${image}: no service runs it`);
  }
  return problems;
}

/**
 * Payload encryption: the codec-keys step writes the key file into a named volume, which the
 * worker, the bridge and the codec server mount read-only after it has run; the UI's codec
 * endpoint is the codec server as the browser on the host reaches it, and the codec server lets
 * the UI's origins in. Without a token, the codec server is published on the host's loopback only.
 */
export function codecProblems(compose: JsonObject): string[] {
  const problems: string[] = [];
  const services = composeServices(compose);
  const keys = services[CODEC_KEYS_SERVICE];
  const codecServer = services[CODEC_SERVER_SERVICE];
  const [ui] = servicesWithImage(compose, IMAGES.ui).map(([, service]) => service);
  if (!keys || !codecServer || !ui)
    return [`${CODEC_KEYS_SERVICE}, ${CODEC_SERVER_SERVICE} and ${IMAGES.ui}: not all there`];

  const keysFile = composeEnv(keys).ORCH_CODEC_KEYS_FILE ?? '';
  const volume = mountHolding(keys, keysFile);
  if (!volume || volume.bind || volume.readOnly)
    problems.push(
      `${CODEC_KEYS_SERVICE}: ORCH_CODEC_KEYS_FILE ${keysFile || '(unset)'} is not on a writable named volume`,
    );
  if (keys.restart !== 'no')
    problems.push(`${CODEC_KEYS_SERVICE}: restart ${String(keys.restart)}, not "no" (a one-shot step)`);
  for (const name of [...ORCHESTRATOR_SERVICES, CODEC_SERVER_SERVICE]) {
    const service = services[name] ?? {};
    const file = composeEnv(service).ORCH_CODEC_KEYS_FILE;
    if (file !== keysFile)
      problems.push(
        `${name}: ORCH_CODEC_KEYS_FILE ${file ?? '(unset)'}, not ${keysFile}, the file ${CODEC_KEYS_SERVICE} writes`,
      );
    const mount = mountHolding(service, keysFile);
    if (!volume || mount?.source !== volume.source || mount.target !== volume.target || !mount.readOnly)
      problems.push(`${name}: does not mount volume ${volume?.source} read-only at ${volume?.target}`);
    if (dependsOn(service)[CODEC_KEYS_SERVICE] !== 'service_completed_successfully')
      problems.push(`${name}: does not wait for ${CODEC_KEYS_SERVICE} to complete`);
  }

  const env = composeEnv(codecServer);
  // Docker forwards a published port to the container's own address, not to its loopback.
  if (env.ORCH_CODEC_SERVER_HOST !== '0.0.0.0')
    problems.push(
      `${CODEC_SERVER_SERVICE}: ORCH_CODEC_SERVER_HOST ${env.ORCH_CODEC_SERVER_HOST ?? '(unset: 127.0.0.1)'}, not 0.0.0.0`,
    );
  const published = composePorts(codecServer).find((p) => p.containerPort === Number(env.ORCH_CODEC_SERVER_PORT));
  if (!published)
    problems.push(`${CODEC_SERVER_SERVICE}: ORCH_CODEC_SERVER_PORT ${env.ORCH_CODEC_SERVER_PORT} is not published`);
  else if (!env.ORCH_CODEC_SERVER_TOKEN && published.hostIp !== '127.0.0.1')
    problems.push(
      `${CODEC_SERVER_SERVICE}: published on ${published.hostIp ?? 'every interface'} without ORCH_CODEC_SERVER_TOKEN`,
    );
  const endpoint = composeEnv(ui).TEMPORAL_CODEC_ENDPOINT ?? '';
  const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
  if (!url || !['localhost', '127.0.0.1'].includes(url.hostname) || Number(url.port) !== published?.hostPort) {
    problems.push(
      `${IMAGES.ui}: TEMPORAL_CODEC_ENDPOINT ${endpoint || '(unset)'} is not the codec server as the browser reaches it (http://localhost:${published?.hostPort})`,
    );
  }
  const origins = (env.ORCH_CODEC_CORS_ORIGINS ?? '').split(',').map((o) => o.trim());
  for (const { hostPort } of composePorts(ui)) {
    for (const origin of [`http://localhost:${hostPort}`, `http://127.0.0.1:${hostPort}`]) {
      if (!origins.includes(origin))
        problems.push(`${CODEC_SERVER_SERVICE}: ORCH_CODEC_CORS_ORIGINS lacks the UI's origin ${origin}`);
    }
  }
  return problems;
}

export const COMPOSE_CHECKS = {
  temporalServerProblems,
  temporalSetupProblems,
  natsProblems,
  orchestratorProblems,
  codecProblems,
  imageProblems,
};
