/**
 * The deployment files, checked without a Docker engine or a cluster: the Dockerfile, the compose
 * file (against what `npm start -- --engine cluster` runs, its servers' settings fed to the real
 * temporal-server and nats-server), the objects the real `kustomize build` renders from the base and
 * overlays under deploy/ (kubeconform validates them: kubeconform.test.ts), the Temporal and NATS
 * ConfigMaps of deploy/temporal and deploy/nats, the scripts they run, and the production guide
 * that documents them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, settingsHelp } from '../../src/config';
import { TEMPORAL_NODE_COUNT } from '../../src/devstack/cluster-engine';
import { NATS_CLUSTER_CONFIG, NATS_CLUSTER_SIZE, natsNodeName } from '../../src/devstack/nats-cluster';
import { startTemporalDevServer } from '../../src/devstack/processes';
import {
  NAMESPACE_RETENTION,
  TEMPORAL_CONFIG_DIR,
  TEMPORAL_DEPLOY_DIR,
  TEMPORAL_DYNAMIC_CONFIG_FILE,
} from '../../src/devstack/temporal-server';
import { requireTool } from '../../src/devstack/tools';
import {
  EXPECTED_SEARCH_ATTRIBUTES,
  registeredSearchAttributes,
  searchAttributesOfScript,
} from '../fixtures/search-attributes';
import { REPO_ROOT } from '../support/paths';
import {
  type ClusterFacts,
  COMPOSE_CHECKS,
  composeEnv,
  composeMounts,
  flagValue,
  CODEC_KEYS_SERVICE,
  CODEC_SERVER_SERVICE,
  hostPathOf,
  IMAGES,
  NAMESPACE_SERVICE,
  SCHEMA_SERVICE,
  servicesWithImage,
} from './compose';
import { envPairs, execForm, parseDockerfile } from './dockerfile';
import {
  asArray,
  asObject,
  type Build,
  build,
  imageTag,
  type Json,
  type JsonObject,
  type K8sObject,
  kustomizationDirs,
  kustomizeEdit,
  loadYaml,
  parseYaml,
  podContainers,
  referencedFiles,
} from './kustomize';

const execFileAsync = promisify(execFile);
const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);
const read = (path: string): string => readFileSync(repoPath(path), 'utf8');

const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
const WORKER = 'orchestrator-worker';
const BRIDGE = 'orchestrator-bridge';
const CODEC_SERVER = 'orchestrator-codec-server';
/** The processes on the path of the messages; the codec server only serves operators. */
const DATA_PATH = [WORKER, BRIDGE];
/** Values of the right shape for settings that come from Secrets, so that the config loader can check the rest. */
const SECRET_SAMPLES: Record<string, string> = {
  ORCH_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  ORCH_CODEC_KEY_ID: 'k1',
  ORCH_CODEC_SERVER_TOKEN: randomBytes(16).toString('hex'),
};
const HTTP_PORT = 8080;
const PROBE_PATHS = { livenessProbe: '/livez', readinessProbe: '/readyz', startupProbe: '/readyz' } as const;
/** Temporal's environment configuration variables the deployment files may set. */
const TEMPORAL_SETTINGS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
];
const KUSTOMIZATIONS = { base: 'deploy/base', dev: 'deploy/overlays/dev', prod: 'deploy/overlays/prod' } as const;
/** What prod's images run until the operator sets theirs. */
const PROD_IMAGE_PLACEHOLDER = 'registry.invalid/set-your-registry/agent-orchestrator:0.1.0';
type BuildName = keyof typeof KUSTOMIZATIONS;
const BUILD_NAMES = Object.keys(KUSTOMIZATIONS) as BuildName[];
const builds = Object.fromEntries(BUILD_NAMES.map((name) => [name, build(KUSTOMIZATIONS[name])])) as Record<
  BuildName,
  Build
>;

/** Kustomizations of the servers' own files, for a self-hosted Temporal and NATS. */
const CONFIG_KUSTOMIZATIONS = {
  temporal: {
    dir: 'deploy/temporal',
    namespace: 'temporal',
    configMaps: ['temporal-config', 'temporal-dynamic-config', 'temporal-setup-scripts'],
  },
  nats: { dir: 'deploy/nats', namespace: 'nats', configMaps: ['nats-cluster-config'] },
} as const;
type ConfigBuildName = keyof typeof CONFIG_KUSTOMIZATIONS;
const CONFIG_BUILD_NAMES = Object.keys(CONFIG_KUSTOMIZATIONS) as ConfigBuildName[];
const configBuilds = Object.fromEntries(
  CONFIG_BUILD_NAMES.map((name) => [name, build(CONFIG_KUSTOMIZATIONS[name].dir)]),
) as Record<ConfigBuildName, Build>;

const compose = asObject(loadYaml(repoPath('docker-compose.yml'))[0]);
const composeServices = asObject(compose.services);
const dockerStages = parseDockerfile(read('Dockerfile'));
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const installScript = read('scripts/install-tools.sh');

// ---------------------------------------------------------------------------------------- helpers

/** A path of the repository relative to its root, with forward slashes. */
function repoRelative(path: string): string {
  return relative(REPO_ROOT, path).split(sep).join('/');
}

/** A version scripts/install-tools.sh pins (`NAME=v1.2.3`), without its leading v. */
function pinnedVersion(name: string): string {
  const match = new RegExp(`^${name}=v?(\\S+)`, 'm').exec(installScript);
  if (!match) throw new Error(`scripts/install-tools.sh sets no ${name}`);
  return match[1];
}

/** What docker-compose.yml must agree with: the cluster engine's files and sizes, the pinned versions. */
const CLUSTER: ClusterFacts = {
  temporalConfigDir: repoRelative(TEMPORAL_CONFIG_DIR),
  temporalDynamicConfigFile: repoRelative(TEMPORAL_DYNAMIC_CONFIG_FILE),
  setupSchemaScript: repoRelative(join(TEMPORAL_DEPLOY_DIR, 'setup-schema.sh')),
  setupNamespaceScript: repoRelative(join(TEMPORAL_DEPLOY_DIR, 'setup-namespace.sh')),
  natsClusterConfig: repoRelative(NATS_CLUSTER_CONFIG),
  temporalNodeCount: TEMPORAL_NODE_COUNT,
  natsNodeNames: Array.from({ length: NATS_CLUSTER_SIZE }, (_, i) => natsNodeName(i)),
  namespaceRetention: NAMESPACE_RETENTION,
  versions: {
    temporalServer: pinnedVersion('TEMPORAL_SERVER_VERSION'),
    temporalUi: pinnedVersion('TEMPORAL_UI_SERVER_VERSION'),
    natsServer: pinnedVersion('NATS_SERVER_VERSION'),
    postgresMajor: pinnedVersion('POSTGRES_MAJOR'),
  },
};

/** The Temporal server's configuration as the real temporal-server renders it (`render-config`) from `env` alone. */
async function renderTemporalConfig(args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await execFileAsync(requireTool('temporal-server'), [...args, 'render-config'], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return stdout;
}

/**
 * A file the Temporal server renders as a Go template before it reads the YAML (deploy/temporal/config/cluster.yaml):
 * its first line says so.
 */
function isGoTemplate(file: string): boolean {
  return read(file).startsWith('# enable-template');
}

/** Compiles src into dist (what `npm run build` does) when the build output is missing. */
function ensureBuilt(): void {
  if (existsSync(repoPath('dist', 'src', 'workers')) && existsSync(repoPath('dist', 'src', 'workflows', 'index.js')))
    return;
  execFileSync(repoPath('node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
  });
}

function objectsOf(build: Build, kind: string): K8sObject[] {
  return build.objects.filter((o) => o.kind === kind);
}

function findObject(build: Build, kind: string, name: string): K8sObject | undefined {
  return build.objects.find((o) => o.kind === kind && o.metadata.name === name);
}

function podSpec(workload: K8sObject): JsonObject {
  return asObject(asObject(asObject(workload.spec).template).spec);
}

function podLabels(workload: K8sObject): Record<string, string> {
  return asObject(asObject(asObject(workload.spec).template).metadata).labels as Record<string, string>;
}

function selects(selector: Json | undefined, labels: Record<string, string> | undefined): boolean {
  const wanted = Object.entries(asObject(selector));
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}

/** The container's environment as the kubelet would give it: ConfigMap envFrom, then env values and ConfigMap keys. */
function containerEnv(build: Build, container: JsonObject): { env: Record<string, string>; secretEnv: JsonObject[] } {
  const configMapData = (name: Json | undefined): JsonObject => {
    const configMap = findObject(build, 'ConfigMap', String(name));
    if (!configMap) throw new Error(`the container reads ConfigMap ${String(name)}, which is not in the build`);
    return asObject(configMap.data);
  };
  const env: Record<string, string> = {};
  for (const source of asArray(container.envFrom).map(asObject)) {
    if (source.configMapRef) Object.assign(env, configMapData(asObject(source.configMapRef).name));
  }
  const secretEnv: JsonObject[] = [];
  for (const variable of asArray(container.env).map(asObject)) {
    const { configMapKeyRef, secretKeyRef } = asObject(variable.valueFrom);
    if (typeof variable.value === 'string') env[String(variable.name)] = variable.value;
    if (configMapKeyRef) {
      const value = configMapData(asObject(configMapKeyRef).name)[String(asObject(configMapKeyRef).key)];
      if (typeof value !== 'string')
        throw new Error(
          `${String(variable.name)}: ConfigMap ${String(asObject(configMapKeyRef).name)} has no key ${String(asObject(configMapKeyRef).key)}`,
        );
      env[String(variable.name)] = value;
    }
    if (secretKeyRef) secretEnv.push(variable);
  }
  return { env, secretEnv };
}

function shutdownGraceSeconds(env: Record<string, string | undefined>): number {
  return Number(env.ORCH_SHUTDOWN_GRACE_MS ?? DEFAULT_SHUTDOWN_GRACE_MS) / 1000;
}

/** `node <entry point>` from a container command/args or a compose command. */
function entryPoint(command: Json[]): string {
  const [program, script] = command.map(String);
  if (program !== 'node' || !script) throw new Error(`not a node entry point: ${JSON.stringify(command)}`);
  return script;
}

/** The volume mount holding `path`, and the volume behind it. */
function mountOf(
  workload: K8sObject,
  container: JsonObject,
  path: string,
): { mount: JsonObject; volume: JsonObject } | undefined {
  const mount = asArray(container.volumeMounts)
    .map(asObject)
    .find((m) => path.startsWith(`${String(m.mountPath)}/`));
  if (!mount) return undefined;
  const volume = asArray(podSpec(workload).volumes)
    .map(asObject)
    .find((v) => v.name === mount.name);
  return volume ? { mount, volume } : undefined;
}

/** Settings that name a file, which a Secret volume may provide. */
const FILE_SETTINGS = [
  'NATS_CREDS_FILE',
  'NATS_TLS_CA_FILE',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
];

interface SecretUse {
  /** Keys read from the Secret: by secretKeyRef, by KEDA, or as files a setting names. */
  keys: Set<string>;
  /** Those keys without which a pod (or KEDA) cannot start. */
  required: Set<string>;
}

/** Every Secret the objects read, and which keys. */
function secretUses(build: Build): Map<string, SecretUse> {
  const uses = new Map<string, SecretUse>();
  const add = (name: Json | undefined, key?: Json, required = false): void => {
    if (typeof name !== 'string') return;
    const use = uses.get(name) ?? { keys: new Set<string>(), required: new Set<string>() };
    if (typeof key === 'string') use.keys.add(key);
    if (typeof key === 'string' && required) use.required.add(key);
    uses.set(name, use);
  };
  for (const workload of objectsOf(build, 'Deployment')) {
    for (const container of podContainers(workload)) {
      for (const variable of asArray(container.env).map(asObject)) {
        const ref = asObject(asObject(variable.valueFrom).secretKeyRef);
        add(ref.name, ref.key, ref.optional !== true);
      }
      for (const source of asArray(container.envFrom).map(asObject)) add(asObject(source.secretRef).name);
      const { env } = containerEnv(build, container);
      for (const setting of FILE_SETTINGS.filter((s) => env[s])) {
        const found = mountOf(workload, container, env[setting]);
        const secret = asObject(found?.volume.secret);
        if (found && secret.secretName)
          add(secret.secretName, relative(String(found.mount.mountPath), env[setting]), secret.optional !== true);
      }
    }
    for (const volume of asArray(podSpec(workload).volumes).map(asObject)) add(asObject(volume.secret).secretName);
  }
  for (const auth of objectsOf(build, 'TriggerAuthentication')) {
    for (const ref of asArray(asObject(auth.spec).secretTargetRef).map(asObject)) add(ref.name, ref.key, true);
  }
  return uses;
}

/** A compose duration ("45s", "1m30s", "1h") in seconds. */
function durationSeconds(value: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new Error(`not a duration: ${value}`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * units[unit], 0);
}

/** Writes the ConfigMap key a setting points at (a mounted file) to a temporary file. */
function materialiseConfigMapFile(
  build: Build,
  workload: K8sObject,
  container: JsonObject,
  path: string,
  dir: string,
): string {
  const found = mountOf(workload, container, path);
  if (!found) throw new Error(`${path} is not under any volume mount of ${workload.metadata.name}`);
  const configMapName = asObject(found.volume.configMap).name;
  if (typeof configMapName !== 'string')
    throw new Error(`${path} is mounted from volume ${String(found.volume.name)}, not a ConfigMap`);
  const configMap = findObject(build, 'ConfigMap', configMapName);
  const key = relative(String(found.mount.mountPath), path);
  const content = asObject(configMap?.data)[key];
  if (typeof content !== 'string') throw new Error(`ConfigMap ${configMapName} has no key ${key} for ${path}`);
  const file = join(dir, key);
  writeFileSync(file, content);
  return file;
}

/** Fenced shell blocks of a Markdown file, one command per logical line. */
function shellCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/^\s*\$\s+/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
}

function dockerignorePatterns(): RegExp[] {
  return read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map(
      (pattern) =>
        new RegExp(
          `^${pattern
            .replace(/^\//, '')
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*\*/g, '\0')
            .replace(/\*/g, '[^/]*')
            .replace(/\0/g, '.*')}(/.*)?$`,
        ),
    );
}

// ------------------------------------------------------------------------------------------ tests

describe('YAML files', () => {
  const yamlFiles = [
    'docker-compose.yml',
    ...readdirSync(repoPath('deploy'), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.ya?ml$/.test(file))
      .map((file) => posix.join('deploy', file.split('\\').join('/'))),
  ];

  it.each(yamlFiles)('%s parses without errors or warnings', async (file) => {
    // A Go template (deploy/temporal/config) as temporal-server reads it: <config dir>/<env>.yaml,
    // rendered here with every setting at its default.
    const docs = isGoTemplate(file)
      ? parseYaml(
          await renderTemporalConfig(
            ['--root', '/', '--config', dirname(repoPath(file)), '--env', basename(file, '.yaml')],
            {},
          ),
          `${file} rendered`,
        )
      : loadYaml(repoPath(file));
    expect(docs.length).toBeGreaterThan(0);
    // A mapping, or a list of JSON patch operations.
    for (const doc of docs)
      expect(Array.isArray(doc) ? doc.length : Object.keys(asObject(doc)).length).toBeGreaterThan(0);
  });

  it('every file under deploy/ is read by a kustomization', () => {
    const used = new Set(kustomizationDirs().flatMap(({ dir }) => referencedFiles(dir)));
    const unused = yamlFiles.filter((file) => file.startsWith('deploy/') && !used.has(file));
    expect(unused).toEqual([]);
  });
});

describe('kustomize overlays', () => {
  it.each([
    ['dev', 1],
    ['prod', 3],
  ] as const)('%s declares the streams with %i replica(s)', (overlay, replicas) => {
    for (const workload of objectsOf(builds[overlay], 'Deployment').filter((w) =>
      DATA_PATH.includes(w.metadata.name),
    )) {
      const { env } = containerEnv(builds[overlay], podContainers(workload)[0]);
      const { streams } = loadConfig({ ...env, ORCH_POLICY_FILE: undefined });
      expect([streams.signals.replicas, streams.dlq.replicas, streams.decisions.replicas]).toEqual([
        replicas,
        replicas,
        replicas,
      ]);
    }
  });

  it('dev runs one worker and one bridge without KEDA or a ServiceMonitor', () => {
    const dev = builds.dev;
    expect(objectsOf(dev, 'ScaledObject')).toEqual([]);
    expect(objectsOf(dev, 'ServiceMonitor')).toEqual([]);
    for (const name of ['orchestrator-worker', 'orchestrator-bridge'])
      expect(asObject(findObject(dev, 'Deployment', name)?.spec).replicas).toBe(1);
  });

  it("prod: every container runs the placeholder image on a registry under .invalid (it never resolves, so nothing is pulled in its place), which the guide's `kustomize edit set image` replaces everywhere", () => {
    const images = (rendered: Build): string[] =>
      objectsOf(rendered, 'Deployment')
        .flatMap(podContainers)
        .map((c) => String(c.image));
    expect(images(builds.prod)).toEqual(Array(3).fill(PROD_IMAGE_PLACEHOLDER));
    expect(PROD_IMAGE_PLACEHOLDER.split('/')[0]).toMatch(/\.invalid$/);
    const command = shellCommands(read('docs/PRODUCTION.md')).find((c) => c.includes('kustomize edit set image')) ?? '';
    const [, dir, image] = /^cd (\S+) && kustomize edit set image (\S+)$/.exec(command) ?? [];
    expect({ dir, image }).toEqual({
      dir: KUSTOMIZATIONS.prod,
      image: 'agent-orchestrator=<your-registry>/agent-orchestrator:0.1.0',
    });
    const copy = mkdtempSync(join(tmpdir(), 'orch-deploy-'));
    try {
      cpSync(repoPath('deploy'), join(copy, 'deploy'), { recursive: true });
      kustomizeEdit(join(copy, dir), ['set', 'image', image.replace('<your-registry>', 'registry.example.com/team')]);
      expect(images(build(join(copy, dir)))).toEqual(
        Array(3).fill('registry.example.com/team/agent-orchestrator:0.1.0'),
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('dev runs the image the guide builds (`docker build -t …`), as a dev cluster has it loaded', () => {
    const tag = shellCommands(read('docs/PRODUCTION.md'))
      .map((c) => /^docker build (?:-t|--tag) (\S+) \.$/.exec(c)?.[1])
      .find(Boolean);
    expect(
      new Set(
        objectsOf(builds.dev, 'Deployment')
          .flatMap(podContainers)
          .map((c) => c.image),
      ),
    ).toEqual(new Set([tag]));
  });

  it('encryption: in prod every process requires the keys; in base and dev, the worker and the bridge use them once the Secret exists, the codec server waits for it', () => {
    const keysRequired = (rendered: Build): Record<string, boolean> =>
      Object.fromEntries(
        objectsOf(rendered, 'Deployment').map((d) => {
          const ref = asObject(
            asObject(
              asArray(podContainers(d)[0].env)
                .map(asObject)
                .find((v) => v.name === 'ORCH_CODEC_KEYS')?.valueFrom,
            ).secretKeyRef,
          );
          return [d.metadata.name, ref.name === 'orchestrator-codec' && ref.key === 'keys' && ref.optional === false];
        }),
      );
    expect(keysRequired(builds.prod)).toEqual({ [WORKER]: true, [BRIDGE]: true, [CODEC_SERVER]: true });
    for (const name of ['base', 'dev'] as const)
      expect(keysRequired(builds[name])).toEqual({ [WORKER]: false, [BRIDGE]: false, [CODEC_SERVER]: true });
  });

  it('the codec server allows the origin of the UI each setup has: a port-forwarded self-hosted UI, the Temporal Cloud UI in prod', () => {
    const origins = (rendered: Build): string | undefined =>
      containerEnv(rendered, podContainers(findObject(rendered, 'Deployment', CODEC_SERVER) as K8sObject)[0]).env
        .ORCH_CODEC_CORS_ORIGINS;
    expect(origins(builds.dev)).toBe('http://localhost:8080,http://127.0.0.1:8080');
    expect(origins(builds.prod)).toBe('https://cloud.temporal.io');
  });

  it('prod scales the worker with KEDA, runs more bridges and asks for more than dev', () => {
    const { prod, dev } = builds;
    expect(objectsOf(prod, 'ScaledObject')).toHaveLength(1);
    expect(Number(asObject(findObject(prod, 'Deployment', 'orchestrator-bridge')?.spec).replicas)).toBeGreaterThan(1);
    const memory = (build: Build, name: string): string =>
      String(
        asObject(asObject(podContainers(findObject(build, 'Deployment', name) as K8sObject)[0].resources).requests)
          .memory,
      );
    const mebibytes = (quantity: string): number => Number(/^(\d+)Mi$/.exec(quantity)?.[1] ?? NaN);
    for (const name of ['orchestrator-worker', 'orchestrator-bridge']) {
      expect(mebibytes(memory(prod, name))).toBeGreaterThan(mebibytes(memory(dev, name)));
    }
  });
});

describe.each(BUILD_NAMES)('Kubernetes objects of %s', (name) => {
  const build = builds[name];
  const workloads = objectsOf(build, 'Deployment');
  const dockerUser = Number(
    dockerStages
      .at(-1)
      ?.instructions.filter((i) => i.keyword === 'USER')
      .at(-1)
      ?.rest.split(':')[0],
  );

  it('the codec server decrypts with the keys the worker and the bridge encrypt with, behind a Service on its port', () => {
    const keyRefs = (workloadName: string): Record<string, Json> =>
      Object.fromEntries(
        asArray(podContainers(findObject(build, 'Deployment', workloadName) as K8sObject)[0].env)
          .map(asObject)
          .filter((v) => ['ORCH_CODEC_KEYS', 'ORCH_CODEC_KEY_ID'].includes(String(v.name)))
          .map((v) => {
            const { name: secret, key } = asObject(asObject(v.valueFrom).secretKeyRef);
            return [String(v.name), { secret, key }];
          }),
      );
    expect(keyRefs(CODEC_SERVER)).toEqual({
      ORCH_CODEC_KEYS: { secret: 'orchestrator-codec', key: 'keys' },
      ORCH_CODEC_KEY_ID: { secret: 'orchestrator-codec', key: 'key-id' },
    });
    for (const workloadName of DATA_PATH) expect(keyRefs(workloadName)).toEqual(keyRefs(CODEC_SERVER));
    const codecServer = findObject(build, 'Deployment', CODEC_SERVER) as K8sObject;
    const serviceSpec = asObject(findObject(build, 'Service', CODEC_SERVER)?.spec);
    expect(selects(serviceSpec.selector, podLabels(codecServer))).toBe(true);
    const [servicePort] = asArray(serviceSpec.ports).map(asObject);
    expect(asArray(podContainers(codecServer)[0].ports).map(asObject)).toContainEqual(
      expect.objectContaining({ name: servicePort.targetPort, containerPort: servicePort.port }),
    );
  });

  it('the codec server is probed on /livez, the only path it answers without a token', () => {
    const [container] = podContainers(findObject(build, 'Deployment', CODEC_SERVER) as K8sObject);
    for (const probe of ['livenessProbe', 'readinessProbe'])
      expect(asObject(container[probe]).httpGet).toEqual({ path: '/livez', port: 'codec' });
  });

  it('commits no Secret: the objects only reference Secrets', () => {
    expect(objectsOf(build, 'Secret')).toEqual([]);
    expect(secretUses(build).size).toBeGreaterThan(0);
  });

  it('runs a worker, a bridge and a codec server, each from an entry point of the build output', () => {
    ensureBuilt();
    const scripts = workloads
      .flatMap(podContainers)
      .map((c) => entryPoint([...asArray(c.command), ...asArray(c.args)]));
    expect(scripts.sort()).toEqual([
      'dist/src/workers/bridge.js',
      'dist/src/workers/codec-server.js',
      'dist/src/workers/worker.js',
    ]);
    for (const script of scripts) expect(existsSync(repoPath(script))).toBe(true);
  });

  it('pins every image tag', () => {
    for (const container of workloads.flatMap(podContainers)) {
      const tag = imageTag(String(container.image));
      expect(tag).toMatch(/\d/);
      expect(tag).not.toBe('latest');
    }
  });

  it.each(DATA_PATH)('%s: probes hit /livez and /readyz on the container port http = 8080', (workloadName) => {
    const [container] = podContainers(findObject(build, 'Deployment', workloadName) as K8sObject);
    const ports = asArray(container.ports).map(asObject);
    expect(ports.find((p) => p.name === 'http')?.containerPort).toBe(HTTP_PORT);
    for (const [probeName, path] of Object.entries(PROBE_PATHS)) {
      const httpGet = asObject(asObject(container[probeName]).httpGet);
      expect({ probeName, path: httpGet.path }).toEqual({ probeName, path });
      const port = httpGet.port;
      expect(port === HTTP_PORT || port === 'http').toBe(true);
    }
  });

  it('gives the worker at least two minutes to become ready (it may bundle its workflows at start)', () => {
    const [container] = podContainers(findObject(build, 'Deployment', 'orchestrator-worker') as K8sObject);
    const startup = asObject(container.startupProbe);
    expect(Number(startup.failureThreshold) * Number(startup.periodSeconds ?? 10)).toBeGreaterThanOrEqual(120);
  });

  it.each(DATA_PATH)('%s: terminationGracePeriodSeconds exceeds ORCH_SHUTDOWN_GRACE_MS / 1000 + 10', (workloadName) => {
    const workload = findObject(build, 'Deployment', workloadName) as K8sObject;
    const { env } = containerEnv(build, podContainers(workload)[0]);
    expect(env.ORCH_SHUTDOWN_GRACE_MS ?? String(DEFAULT_SHUTDOWN_GRACE_MS)).toMatch(/^\d+$/);
    expect(Number(podSpec(workload).terminationGracePeriodSeconds)).toBeGreaterThan(shutdownGraceSeconds(env) + 10);
  });

  it('runs as the image user, non-root, with a read-only root filesystem and a writable /tmp', () => {
    expect(dockerUser).toBe(10001);
    for (const workload of workloads) {
      const spec = podSpec(workload);
      expect(asObject(spec.securityContext)).toMatchObject({ runAsNonRoot: true, runAsUser: dockerUser });
      for (const container of podContainers(workload)) {
        expect(asObject(container.securityContext)).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        const tmp = mountOf(workload, container, '/tmp/x');
        expect(tmp?.volume.emptyDir).toBeDefined();
      }
    }
  });

  it('sets requests and limits on every container', () => {
    for (const container of workloads.flatMap(podContainers)) {
      const resources = asObject(container.resources);
      for (const bound of ['requests', 'limits'])
        expect(Object.keys(asObject(resources[bound])).sort()).toEqual(['cpu', 'memory']);
    }
  });

  it('sets only settings the processes know, and they load with the real config loader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-settings-'));
    try {
      const help = settingsHelp();
      for (const workload of workloads) {
        const [container] = podContainers(workload);
        const { env, secretEnv } = containerEnv(build, container);
        for (const variable of secretEnv.map((v) => String(v.name)))
          env[variable] ??= SECRET_SAMPLES[variable] ?? `${variable.toLowerCase()}-from-secret`;
        for (const setting of Object.keys(env)) {
          expect({
            setting,
            known: setting.startsWith('TEMPORAL_')
              ? TEMPORAL_SETTINGS.includes(setting)
              : help.includes(`  ${setting} `),
          }).toEqual({ setting, known: true });
        }
        // Mounted files: the policy comes from a ConfigMap (written to a temporary file here);
        // credential files from a Secret volume that must exist, or the process exits at start.
        const policyFile = env.ORCH_POLICY_FILE
          ? materialiseConfigMapFile(build, workload, container, env.ORCH_POLICY_FILE, dir)
          : undefined;
        for (const setting of FILE_SETTINGS.filter((s) => env[s])) {
          const secret = asObject(mountOf(workload, container, env[setting])?.volume.secret);
          expect({ setting, secret: typeof secret.secretName, optional: secret.optional }).toEqual({
            setting,
            secret: 'string',
            optional: false,
          });
        }
        const config = loadConfig({ ...env, ...(policyFile ? { ORCH_POLICY_FILE: policyFile } : {}) });
        expect(config.temporal.namespace).toBe(
          asObject(findObject(build, 'ConfigMap', 'orchestrator-config')?.data).TEMPORAL_NAMESPACE,
        );
        expect(config.codec?.keys.size).toBe(1);
        if (workload.metadata.name === CODEC_SERVER) {
          // Reachable from outside the pod, on the port its Service targets, for the UI's origin.
          const port = asArray(container.ports)
            .map(asObject)
            .find((p) => p.name === 'codec')?.containerPort;
          expect(config.codecServer).toMatchObject({ host: '0.0.0.0', port });
          expect(config.codecServer.corsOrigins.length).toBeGreaterThan(0);
          continue;
        }
        expect(config.httpPort).toBe(HTTP_PORT);
        expect(config.taskQueue).toBe(env.ORCH_TASK_QUEUE);
        if (policyFile)
          expect(config.policy.version).toBe(
            (JSON.parse(readFileSync(policyFile, 'utf8')) as { version: string }).version,
          );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a disruption budget for the worker and the bridge that still lets a node drain', () => {
    for (const workload of workloads.filter((w) => DATA_PATH.includes(w.metadata.name))) {
      const budgets = objectsOf(build, 'PodDisruptionBudget').filter((pdb) =>
        selects(asObject(asObject(pdb.spec).selector).matchLabels, podLabels(workload)),
      );
      expect(budgets).toHaveLength(1);
      expect(asObject(budgets[0].spec).maxUnavailable).toBeGreaterThanOrEqual(1);
    }
  });

  it('exposes /metrics of the worker and bridge pods to Prometheus (Service, ServiceMonitor if any, annotations), and not the codec server, which has none', () => {
    const service = findObject(build, 'Service', 'orchestrator-metrics') as K8sObject;
    const serviceSpec = asObject(service.spec);
    const servicePort = asObject(asArray(serviceSpec.ports)[0]);
    for (const workload of workloads) {
      const selected = selects(serviceSpec.selector, podLabels(workload));
      expect({ workload: workload.metadata.name, selected }).toEqual({
        workload: workload.metadata.name,
        selected: DATA_PATH.includes(workload.metadata.name),
      });
      if (!selected) continue;
      const ports = asArray(podContainers(workload)[0].ports).map(asObject);
      expect(ports.find((p) => p.name === servicePort.targetPort)?.containerPort).toBe(HTTP_PORT);
      const annotations = asObject(asObject(asObject(workload.spec).template).metadata).annotations;
      expect(annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(HTTP_PORT),
        'prometheus.io/path': '/metrics',
      });
    }
    for (const monitor of objectsOf(build, 'ServiceMonitor')) {
      const spec = asObject(monitor.spec);
      expect(selects(asObject(spec.selector).matchLabels, service.metadata.labels)).toBe(true);
      expect(asArray(spec.endpoints).map(asObject)).toEqual([
        expect.objectContaining({ port: servicePort.name, path: '/metrics' }),
      ]);
    }
    if (name !== 'dev') expect(objectsOf(build, 'ServiceMonitor')).toHaveLength(1);
  });

  it('scales the worker on the backlog of its own task queue and namespace, with a CPU fallback', () => {
    const scaledObjects = objectsOf(build, 'ScaledObject');
    if (name === 'dev') {
      expect(scaledObjects).toEqual([]);
      return;
    }
    expect(scaledObjects).toHaveLength(1);
    const spec = asObject(scaledObjects[0].spec);
    const target = asObject(spec.scaleTargetRef);
    const worker = findObject(build, 'Deployment', String(target.name)) as K8sObject;
    expect(worker.metadata.name).toBe('orchestrator-worker');
    // KEDA owns the replica count: a `replicas` in the manifest would fight its HPA on every apply.
    expect(asObject(worker.spec).replicas).toBeUndefined();
    const [container] = podContainers(worker);
    expect(target.envSourceContainerName ?? container.name).toBe(container.name);
    const { env } = containerEnv(build, container);
    const triggers = asArray(spec.triggers).map(asObject);
    expect(triggers.map((t) => t.type)).toEqual(['temporal', 'cpu']);
    // KEDA reads the endpoint, namespace and task queue from the variables the worker itself uses,
    // set in its container (KEDA knows none of the worker's defaults), not from copies.
    const temporal = asObject(triggers[0].metadata);
    expect(Object.keys(temporal).filter((key) => ['endpoint', 'namespace', 'taskQueue'].includes(key))).toEqual([]);
    const config = loadConfig({ ...env, ORCH_POLICY_FILE: undefined });
    expect(env[String(temporal.endpointFromEnv)]).toBe(config.temporal.connectionOptions.address);
    expect(env[String(temporal.namespaceFromEnv)]).toBe(config.temporal.namespace);
    expect(env[String(temporal.taskQueueFromEnv)]).toBe(config.taskQueue);
    expect(Number(temporal.targetQueueSize)).toBeGreaterThan(0);
    expect(Number(asObject(triggers[1].metadata).value)).toBeGreaterThan(0);
    expect(asObject(asObject(container.resources).requests).cpu).toBeDefined();
    expect(Number(spec.minReplicaCount)).toBeGreaterThanOrEqual(2);
    expect(Number(spec.maxReplicaCount)).toBeGreaterThan(Number(spec.minReplicaCount));
    // With an API key the trigger authenticates from the same Secret key as the pods.
    const authName = asObject(triggers[0].authenticationRef).name;
    if (env.TEMPORAL_API_KEY !== undefined || authName !== undefined) {
      const auth = findObject(build, 'TriggerAuthentication', String(authName));
      const ref = asArray(asObject(auth?.spec).secretTargetRef).map(asObject)[0];
      const podRef = asObject(
        asObject(
          asArray(container.env)
            .map(asObject)
            .find((v) => v.name === 'TEMPORAL_API_KEY')?.valueFrom,
        ).secretKeyRef,
      );
      expect(ref).toMatchObject({ parameter: 'apiKey', name: podRef.name, key: podRef.key });
    }
  });
});

describe.each(CONFIG_BUILD_NAMES)('the ConfigMaps of deploy/%s (what a self-hosted server mounts)', (name) => {
  const { dir, namespace, configMaps } = CONFIG_KUSTOMIZATIONS[name];
  const build = configBuilds[name];
  /** Every file of a folder (or the file itself), by name, with its text: what a ConfigMap of it holds. */
  const filesOf = (path: string): Record<string, string> =>
    statSync(path).isDirectory()
      ? Object.fromEntries(readdirSync(path).map((file) => [file, readFileSync(join(path, file), 'utf8')]))
      : { [basename(path)]: readFileSync(path, 'utf8') };
  /** The files the cluster engine runs the servers with, by ConfigMap. */
  const engineFiles: Record<string, Record<string, string>> = {
    'temporal-config': filesOf(TEMPORAL_CONFIG_DIR),
    'temporal-dynamic-config': filesOf(dirname(TEMPORAL_DYNAMIC_CONFIG_FILE)),
    'temporal-setup-scripts': {
      ...filesOf(repoPath(CLUSTER.setupSchemaScript)),
      ...filesOf(repoPath(CLUSTER.setupNamespaceScript)),
    },
    'nats-cluster-config': filesOf(NATS_CLUSTER_CONFIG),
  };

  it(`generates ${configMaps.join(', ')} in namespace ${namespace}, with fixed names`, () => {
    expect(build.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      configMaps.map((configMap) => `ConfigMap/${configMap}`),
    );
    for (const object of build.objects) expect(object.metadata.namespace).toBe(namespace);
  });

  it.each(configMaps as readonly string[])(
    '%s holds exactly the files the cluster engine runs the servers with',
    (configMap) => {
      expect(asObject(findObject(build, 'ConfigMap', configMap)?.data)).toEqual(engineFiles[configMap]);
    },
  );

  it('holds every file docker-compose.yml mounts from its folder', () => {
    const mounts = Object.values(composeServices)
      .flatMap((service) => composeMounts(asObject(service)))
      .filter((m) => m.bind && m.source.startsWith(`${dir}/`));
    expect(mounts.length).toBeGreaterThan(0);
    for (const mount of mounts) {
      for (const [file, text] of Object.entries(filesOf(repoPath(mount.source)))) {
        const mounted = statSync(repoPath(mount.source)).isDirectory() ? posix.join(mount.source, file) : mount.source;
        const inConfigMap = build.objects.some((o) => asObject(o.data)[file] === text);
        expect({ mounted, inConfigMap }).toEqual({ mounted, inConfigMap: true });
      }
    }
  });

  if (name === 'temporal') {
    it('temporal-dynamic-config mounted at /etc/temporal/dynamicconfig is where config/cluster.yaml looks by default', async () => {
      const rendered = asObject(
        parseYaml(
          await renderTemporalConfig(['--root', '/', '--config', TEMPORAL_CONFIG_DIR, '--env', 'cluster'], {}),
          'cluster.yaml rendered',
        )[0],
      );
      const filepath = String(asObject(rendered.dynamicConfigClient).filepath);
      expect(dirname(filepath)).toBe('/etc/temporal/dynamicconfig');
      expect(Object.keys(asObject(findObject(build, 'ConfigMap', 'temporal-dynamic-config')?.data))).toContain(
        basename(filepath),
      );
    });
  }
});

describe('docker-compose.yml', () => {
  const orchestrator = ['worker', 'bridge'];
  const temporalNodes = servicesWithImage(compose, IMAGES.temporalServer).map(([name]) => name);
  const natsNodes = servicesWithImage(compose, IMAGES.nats).map(([name]) => name);

  it('pins every image to a version (no latest), or builds it from this repository', () => {
    for (const [serviceName, service] of Object.entries(composeServices).map(([n, s]) => [n, asObject(s)] as const)) {
      if (service.image === undefined) {
        expect({ serviceName, build: service.build }).toEqual({ serviceName, build: '.' });
        continue;
      }
      const tag = imageTag(String(service.image));
      expect({ serviceName, tag }).toEqual({ serviceName, tag: expect.stringMatching(/^\d+\.\d+(\.\d+)?/) });
    }
  });

  it('publishes each host port once', () => {
    const hostPorts = Object.values(composeServices)
      .flatMap((s) => asArray(asObject(s).ports))
      .map((p) => String(p).split(':').slice(0, -1).join(':'));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it.each(orchestrator)('%s runs an entry point of the build output', (serviceName) => {
    ensureBuilt();
    const script = entryPoint(asArray(asObject(composeServices[serviceName]).command));
    expect(script).toBe(`dist/src/workers/${serviceName}.js`);
    expect(existsSync(repoPath(script))).toBe(true);
  });

  it.each(orchestrator)('%s: its healthcheck asks /readyz on the port it serves', (serviceName) => {
    const service = asObject(composeServices[serviceName]);
    const port = Number(composeEnv(service).ORCH_HTTP_PORT ?? HTTP_PORT);
    const test = asArray(asObject(service.healthcheck).test).map(String);
    expect(test[0]).toBe('CMD');
    expect(test.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
  });

  it.each(orchestrator)('%s: stop_grace_period exceeds ORCH_SHUTDOWN_GRACE_MS / 1000 + 10', (serviceName) => {
    const service = asObject(composeServices[serviceName]);
    const env = composeEnv(service);
    expect(durationSeconds(String(service.stop_grace_period))).toBeGreaterThan(shutdownGraceSeconds(env) + 10);
  });

  it.each(orchestrator)(
    '%s: starts after every Temporal and NATS node, the namespace step and the codec keys, and restarts',
    (serviceName) => {
      const service = asObject(composeServices[serviceName]);
      expect(service.depends_on).toEqual({
        ...Object.fromEntries([...temporalNodes, ...natsNodes].map((node) => [node, { condition: 'service_healthy' }])),
        [NAMESPACE_SERVICE]: { condition: 'service_completed_successfully' },
        [CODEC_KEYS_SERVICE]: { condition: 'service_completed_successfully' },
      });
      expect(service.restart).toBe('unless-stopped');
      expect(service.init).toBe(true);
    },
  );

  it.each(orchestrator)(
    '%s: its settings load with the real config loader: every NATS node, streams at R3',
    (serviceName) => {
      // The key file exists only in the container: compose-codec.test.ts makes one and loads it.
      const env = { ...composeEnv(asObject(composeServices[serviceName])), ORCH_CODEC_KEYS_FILE: undefined };
      const config = loadConfig(env);
      expect(config.temporal.connectionOptions.address).toBe('temporal:7233');
      expect(config.nats.servers).toEqual(CLUSTER.natsNodeNames.map((node) => `nats://${node}:4222`));
      expect([config.streams.signals.replicas, config.streams.dlq.replicas, config.streams.decisions.replicas]).toEqual(
        [3, 3, 3],
      );
      expect(config.httpPort).toBe(HTTP_PORT);
    },
  );

  it("the codec server runs the build output's entry point; its healthcheck asks /livez on its port", () => {
    ensureBuilt();
    const service = asObject(composeServices[CODEC_SERVER_SERVICE]);
    const script = entryPoint(asArray(service.command));
    expect(script).toBe('dist/src/workers/codec-server.js');
    expect(existsSync(repoPath(script))).toBe(true);
    const test = asArray(asObject(service.healthcheck).test).map(String);
    expect(test[0]).toBe('CMD');
    expect(test.join(' ')).toContain(`http://127.0.0.1:${composeEnv(service).ORCH_CODEC_SERVER_PORT}/livez`);
  });

  it('the services the orchestrator waits on have healthchecks', () => {
    for (const dependency of ['postgres', ...temporalNodes, ...natsNodes])
      expect(asArray(asObject(asObject(composeServices[dependency]).healthcheck).test).length).toBeGreaterThan(0);
    expect(asArray(asObject(asObject(composeServices.postgres).healthcheck).test).join(' ')).toContain('pg_isready');
    for (const node of temporalNodes)
      expect(asArray(asObject(asObject(composeServices[node]).healthcheck).test).join(' ')).toContain(
        'temporal operator cluster health',
      );
    for (const node of natsNodes)
      expect(asArray(asObject(asObject(composeServices[node]).healthcheck).test).join(' ')).toContain(':8222/healthz');
  });

  describe('the shape `npm start -- --engine cluster` runs', () => {
    it("has the engine's two Temporal nodes and three NATS nodes", () => {
      expect(temporalNodes).toEqual(['temporal-1', 'temporal-2']);
      expect(temporalNodes).toHaveLength(TEMPORAL_NODE_COUNT);
      expect(natsNodes).toEqual(CLUSTER.natsNodeNames);
    });

    it('Temporal nodes: the server on exactly deploy/temporal/config and deploy/temporal/dynamicconfig (read-only) with --env cluster, each at its own fixed IP, node 2 after node 1', () => {
      expect(COMPOSE_CHECKS.temporalServerProblems(compose, CLUSTER)).toEqual([]);
    });

    it('the schema step runs deploy/temporal/setup-schema.sh before the nodes; the namespace step deploy/temporal/setup-namespace.sh after them', () => {
      expect(COMPOSE_CHECKS.temporalSetupProblems(compose, CLUSTER)).toEqual([]);
    });

    it('NATS nodes: deploy/nats/cluster.conf (read-only), their own name and store, routes naming all three', () => {
      expect(COMPOSE_CHECKS.natsProblems(compose, CLUSTER)).toEqual([]);
    });

    it('the worker and the bridge: ORCH_NATS_REPLICAS "3", every NATS node, the Temporal frontends', () => {
      expect(COMPOSE_CHECKS.orchestratorProblems(compose, CLUSTER)).toEqual([]);
    });

    it('payload encryption: the codec-keys step writes the key into a volume the worker, the bridge and the codec server mount read-only; the UI asks the codec server through the browser, which it lets in', () => {
      expect(COMPOSE_CHECKS.codecProblems(compose)).toEqual([]);
    });

    it('images: no temporalio/auto-setup; server, admin-tools, UI, nats-server and PostgreSQL at the versions scripts/install-tools.sh pins', () => {
      expect(CLUSTER.versions).toEqual({
        temporalServer: expect.stringMatching(/^\d+\.\d+\.\d+$/),
        temporalUi: expect.stringMatching(/^\d+\.\d+\.\d+$/),
        natsServer: expect.stringMatching(/^\d+\.\d+\.\d+$/),
        postgresMajor: expect.stringMatching(/^\d+$/),
      });
      expect(COMPOSE_CHECKS.imageProblems(compose, CLUSTER)).toEqual([]);
    });

    // Each way of breaking the file, and a problem the checks above must report for it.
    const service = (copy: JsonObject, name: string): JsonObject => asObject(asObject(copy.services)[name]);
    const env = (copy: JsonObject, name: string): JsonObject => asObject(service(copy, name).environment);
    const breakages: [string, (copy: JsonObject) => void, RegExp][] = [
      [
        'a node runs another --env',
        (c) =>
          void (service(c, 'temporal-1').entrypoint = asArray(service(c, 'temporal-1').entrypoint).map((a) =>
            a === 'cluster' ? 'development' : a,
          )),
        /^temporal-1: entrypoint/,
      ],
      [
        "a node runs the image's own entrypoint",
        (c) => void delete service(c, 'temporal-2').entrypoint,
        /^temporal-2: entrypoint/,
      ],
      [
        'a node mounts another configuration folder',
        (c) =>
          void (service(c, 'temporal-2').volumes = [
            './deploy/base:/etc/orchestrator/temporal/config:ro',
            asArray(service(c, 'temporal-2').volumes)[1],
          ]),
        /^temporal-2: volumes/,
      ],
      [
        'a node mounts no dynamic configuration',
        (c) => void (service(c, 'temporal-1').volumes = asArray(service(c, 'temporal-1').volumes).slice(0, 1)),
        /^temporal-1: TEMPORAL_DYNAMIC_CONFIG_FILE/,
      ],
      [
        'a node mounts its configuration writable',
        (c) =>
          void (service(c, 'temporal-1').volumes = asArray(service(c, 'temporal-1').volumes).map((v) =>
            String(v).replace(/:ro$/, ''),
          )),
        /^temporal-1: volumes/,
      ],
      [
        "a node reads the image's dynamic configuration",
        (c) =>
          void (env(c, 'temporal-1').TEMPORAL_DYNAMIC_CONFIG_FILE = '/etc/temporal/config/dynamicconfig/docker.yaml'),
        /^temporal-1: TEMPORAL_DYNAMIC_CONFIG_FILE/,
      ],
      [
        'a node binds to loopback',
        (c) => void (env(c, 'temporal-2').TEMPORAL_BIND_IP = '127.0.0.1'),
        /^temporal-2: TEMPORAL_BIND_IP/,
      ],
      [
        'a node broadcasts a name',
        (c) => void (env(c, 'temporal-1').TEMPORAL_BROADCAST_ADDRESS = 'temporal-1'),
        /^temporal-1: TEMPORAL_BROADCAST_ADDRESS/,
      ],
      [
        "a node broadcasts the other's IP",
        (c) => void (env(c, 'temporal-2').TEMPORAL_BROADCAST_ADDRESS = env(c, 'temporal-1').TEMPORAL_BROADCAST_ADDRESS),
        /^temporal-2: TEMPORAL_BROADCAST_ADDRESS/,
      ],
      [
        "a node's IP in the range Docker hands out",
        (c) => {
          env(c, 'temporal-2').TEMPORAL_BROADCAST_ADDRESS = '10.201.17.200';
          asObject(asObject(service(c, 'temporal-2').networks).default).ipv4_address = '10.201.17.200';
        },
        /^temporal-2: .* inside the range/,
      ],
      [
        'node 2 starts with node 1',
        (c) => void delete asObject(service(c, 'temporal-2').depends_on)['temporal-1'],
        /^temporal-2: does not wait for temporal-1/,
      ],
      [
        'a node starts before the schema step',
        (c) => void delete asObject(service(c, 'temporal-1').depends_on)[SCHEMA_SERVICE],
        /^temporal-1: does not wait for temporal-schema/,
      ],
      [
        'a third node',
        (c) => void (asObject(c.services)['temporal-3'] = structuredClone(service(c, 'temporal-2'))),
        /^temporalio\/server: 3 services/,
      ],
      ['no schema step', (c) => void delete asObject(c.services)[SCHEMA_SERVICE], /^temporal-schema: no such service/],
      [
        'the schema step runs the namespace script',
        (c) =>
          void (service(c, SCHEMA_SERVICE).volumes = [
            './deploy/temporal/setup-namespace.sh:/opt/orchestrator/setup-schema.sh:ro',
          ]),
        /^temporal-schema: entrypoint/,
      ],
      [
        'the schema step on another database host',
        (c) => void (env(c, SCHEMA_SERVICE).TEMPORAL_SQL_HOST = 'db'),
        /^temporal-schema: TEMPORAL_SQL_HOST/,
      ],
      [
        'the namespace step with another retention',
        (c) => void (env(c, NAMESPACE_SERVICE).TEMPORAL_NAMESPACE_RETENTION = '72h'),
        /^temporal-namespace: TEMPORAL_NAMESPACE_RETENTION/,
      ],
      [
        'the namespace step before node 2',
        (c) => void delete asObject(service(c, NAMESPACE_SERVICE).depends_on)['temporal-2'],
        /^temporal-namespace: does not wait for temporal-2/,
      ],
      [
        'the auto-setup image',
        (c) => void (service(c, 'temporal-1').image = 'temporalio/auto-setup:1.29.1'),
        /^temporal-1: temporalio\/auto-setup:1\.29\.1 is deprecated/,
      ],
      [
        'a NATS node without cluster.conf',
        (c) =>
          void (service(c, 'nats-2').volumes = asArray(service(c, 'nats-2').volumes).filter(
            (v) => !String(v).includes('cluster.conf'),
          )),
        /^nats-2: -c/,
      ],
      [
        'a NATS node named after another',
        (c) =>
          void (service(c, 'nats-3').command = asArray(service(c, 'nats-3').command).map((a) =>
            a === 'nats-3' ? 'nats-1' : a,
          )),
        /^nats-3: -n nats-1/,
      ],
      [
        'routes that miss a node',
        (c) =>
          void (service(c, 'nats-3').command = asArray(service(c, 'nats-3').command).map((a) =>
            String(a).replace('nats://nats-1:6222,', ''),
          )),
        /^nats-3: --routes/,
      ],
      [
        'two NATS nodes on one store',
        (c) =>
          void (service(c, 'nats-2').volumes = asArray(service(c, 'nats-2').volumes).map((v) =>
            String(v).replace('nats-2-data', 'nats-1-data'),
          )),
        /^nats-2: shares its store/,
      ],
      ['a worker at R1', (c) => void (env(c, 'worker').ORCH_NATS_REPLICAS = '1'), /^worker: ORCH_NATS_REPLICAS 1/],
      [
        'a bridge without ORCH_NATS_REPLICAS',
        (c) => void delete env(c, 'bridge').ORCH_NATS_REPLICAS,
        /^bridge: ORCH_NATS_REPLICAS \(unset\)/,
      ],
      [
        'a bridge on one NATS node',
        (c) => void (env(c, 'bridge').NATS_URL = 'nats://nats-1:4222'),
        /^bridge: NATS_URL/,
      ],
      [
        'a worker on one Temporal node',
        (c) => void (env(c, 'worker').TEMPORAL_ADDRESS = 'temporal-9:7233'),
        /^worker: TEMPORAL_ADDRESS/,
      ],
      [
        'the UI of another release',
        (c) => void (service(c, 'temporal-ui').image = 'temporalio/ui:2.34.0'),
        /^temporal-ui: temporalio\/ui:2\.34\.0 is not the version/,
      ],
      [
        'a server of another release',
        (c) => void (service(c, 'temporal-2').image = 'temporalio/server:1.29.0'),
        /^temporal-2: temporalio\/server:1\.29\.0 is not the version/,
      ],
      [
        'admin tools of another release',
        (c) => void (service(c, NAMESPACE_SERVICE).image = 'temporalio/admin-tools:1.28.1-tctl-1.18.4-cli-1.5.0'),
        /^temporal-namespace: .* is not the version/,
      ],
      [
        'another PostgreSQL major',
        (c) => void (service(c, 'postgres').image = 'postgres:16.10'),
        /^postgres: postgres:16\.10 is not the version/,
      ],
      ['nats:latest', (c) => void (service(c, 'nats-1').image = 'nats:latest'), /^nats-1: nats:latest is not pinned/],
      [
        'the UI asks the codec server by its name on the network, which the browser cannot resolve',
        (c) => void (env(c, 'temporal-ui').TEMPORAL_CODEC_ENDPOINT = 'http://codec-server:8089'),
        /^temporalio\/ui: TEMPORAL_CODEC_ENDPOINT/,
      ],
      [
        'the UI without a codec endpoint',
        (c) => void delete env(c, 'temporal-ui').TEMPORAL_CODEC_ENDPOINT,
        /^temporalio\/ui: TEMPORAL_CODEC_ENDPOINT \(unset\)/,
      ],
      [
        "the codec server listening on its container's loopback",
        (c) => void delete env(c, CODEC_SERVER_SERVICE).ORCH_CODEC_SERVER_HOST,
        /^codec-server: ORCH_CODEC_SERVER_HOST/,
      ],
      [
        "the codec server without the UI's origin",
        (c) => void (env(c, CODEC_SERVER_SERVICE).ORCH_CODEC_CORS_ORIGINS = 'http://localhost:8233'),
        /^codec-server: ORCH_CODEC_CORS_ORIGINS lacks the UI's origin http:\/\/localhost:8080/,
      ],
      [
        'the codec server on every interface without a token',
        (c) => void (service(c, CODEC_SERVER_SERVICE).ports = ['8089:8089']),
        /^codec-server: published on every interface/,
      ],
      [
        'a worker reading its keys elsewhere',
        (c) => void (service(c, 'worker').environment = { ...env(c, 'worker'), ORCH_CODEC_KEYS_FILE: '/keys' }),
        /^worker: ORCH_CODEC_KEYS_FILE \/keys/,
      ],
      [
        'a bridge without the keys volume',
        (c) => void delete service(c, 'bridge').volumes,
        /^bridge: does not mount volume codec-keys/,
      ],
      [
        'the keys volume writable in the codec server',
        (c) => void (service(c, CODEC_SERVER_SERVICE).volumes = ['codec-keys:/run/orchestrator/codec']),
        /^codec-server: does not mount volume codec-keys read-only/,
      ],
      [
        'the codec server before the key exists',
        (c) => void (service(c, CODEC_SERVER_SERVICE).depends_on = {}),
        /^codec-server: does not wait for codec-keys/,
      ],
    ];

    it.each(breakages)('reports %s', (_, breakIt, problem) => {
      const copy = structuredClone(compose);
      breakIt(copy);
      const problems = Object.values(COMPOSE_CHECKS).flatMap((check) => check(copy, CLUSTER));
      expect(problems).toContainEqual(expect.stringMatching(problem));
    });
  });

  describe('the servers accept the settings it gives them', () => {
    it.each(temporalNodes)(
      "%s: the real temporal-server renders its configuration from the node's entrypoint and environment",
      async (nodeName) => {
        const node = asObject(composeServices[nodeName]);
        const env = composeEnv(node);
        const entrypoint = asArray(node.entrypoint).map(String);
        const configDir = flagValue(entrypoint, '--config') as string;
        // Its global flags, the mounted folder read where it is in the repository, render-config instead of start.
        const args = entrypoint
          .slice(1, -1)
          .map((arg) => (arg === configDir ? repoPath(hostPathOf(node, configDir) as string) : arg));
        expect(entrypoint.at(-1)).toBe('start');
        const config = asObject(parseYaml(await renderTemporalConfig(args, env), `${nodeName}'s configuration`)[0]);
        const services = asObject(config.services);
        const frontend = asObject(asObject(services.frontend).rpc);
        const cluster = asObject(
          asObject(asObject(config.clusterMetadata).clusterInformation)[
            String(asObject(config.clusterMetadata).currentClusterName)
          ],
        );
        expect(asObject(asObject(config.global).membership).broadcastAddress).toBe(env.TEMPORAL_BROADCAST_ADDRESS);
        for (const service of ['frontend', 'history', 'matching', 'worker'])
          expect({ service, bindOnIP: asObject(asObject(services[service]).rpc).bindOnIP }).toEqual({
            service,
            bindOnIP: '0.0.0.0',
          });
        for (const store of Object.values(asObject(asObject(config.persistence).datastores)))
          expect(asObject(asObject(store).sql).connectAddr).toBe('postgres:5432');
        expect(cluster.rpcAddress).toBe(env.TEMPORAL_FRONTEND_ADDRESS);
        expect(asObject(config.dynamicConfigClient).filepath).toBe(env.TEMPORAL_DYNAMIC_CONFIG_FILE);
        expect(asObject(asObject(asObject(config.global).metrics).prometheus).listenAddress).toBe(
          env.TEMPORAL_METRICS_ADDRESS,
        );
        // The frontend's port is the one clients dial, the healthcheck asks and the host publishes.
        const grpcPort = Number(frontend.grpcPort);
        expect(Number(String(env.TEMPORAL_FRONTEND_ADDRESS).split(':')[1])).toBe(grpcPort);
        expect(asArray(asObject(node.healthcheck).test).map(String)).toContain(`127.0.0.1:${grpcPort}`);
        for (const port of asArray(node.ports).map(String)) expect(Number(port.split(':').at(-1))).toBe(grpcPort);
      },
    );

    it('the real temporal-server validates the dynamic configuration the nodes mount', async () => {
      const { stdout } = await execFileAsync(requireTool('temporal-server'), [
        'validate-dynamic-config',
        repoPath(CLUSTER.temporalDynamicConfigFile),
      ]);
      expect(stdout).not.toMatch(/error|warning/);
    });

    it.each(natsNodes)('%s: the real nats-server accepts its flags with deploy/nats/cluster.conf', async (nodeName) => {
      const node = asObject(composeServices[nodeName]);
      const command = asArray(node.command).map(String);
      const config = flagValue(command, '-c') as string;
      const store = mkdtempSync(join(tmpdir(), 'orch-nats-'));
      try {
        const args = command.map((arg, i) =>
          command[i - 1] === '-c'
            ? repoPath(hostPathOf(node, config) as string)
            : command[i - 1] === '-sd'
              ? store
              : arg,
        );
        // -t: test the configuration and exit. An unknown flag prints the usage instead of "is valid".
        const { stdout, stderr } = await execFileAsync(requireTool('nats-server'), [...args, '-t']);
        expect(`${stdout}${stderr}`).toMatch(/configuration file .*cluster\.conf is valid/);
        expect(`${stdout}${stderr}`).not.toContain('Usage');
      } finally {
        rmSync(store, { recursive: true, force: true });
      }
    });
  });

  describe('search attributes', () => {
    const namespaceStep = asObject(composeServices[NAMESPACE_SERVICE]);
    const mount = composeMounts(namespaceStep).find((m) => m.bind);
    const hostPath = mount?.source ?? '';
    const script = hostPath ? readFileSync(repoPath(hostPath), 'utf8') : '';

    it('a one-shot admin-tools service runs deploy/temporal/setup-namespace.sh after every Temporal node is healthy', () => {
      expect(hostPath).toBe(CLUSTER.setupNamespaceScript);
      expect(existsSync(repoPath(hostPath))).toBe(true);
      expect(asArray(namespaceStep.entrypoint)).toEqual(['bash', mount?.target]);
      expect(namespaceStep.restart).toBe('no');
      expect(namespaceStep.depends_on).toEqual(
        Object.fromEntries(temporalNodes.map((node) => [node, { condition: 'service_healthy' }])),
      );
      expect(composeEnv(namespaceStep)).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal:7233',
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_NAMESPACE_RETENTION: NAMESPACE_RETENTION,
      });
    });

    it('registers exactly the search attributes of the table (test/fixtures/search-attributes.ts)', () => {
      expect(searchAttributesOfScript(script)).toEqual(EXPECTED_SEARCH_ATTRIBUTES);
      expect(script).toContain(
        'temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"',
      );
    });

    it("the Kubernetes Job's copy (ConfigMap temporal-setup-scripts) registers the same", () => {
      const configMap = findObject(configBuilds.temporal, 'ConfigMap', 'temporal-setup-scripts');
      const copy = asObject(configMap?.data)['setup-namespace.sh'];
      expect(typeof copy).toBe('string');
      expect(searchAttributesOfScript(String(copy))).toEqual(EXPECTED_SEARCH_ATTRIBUTES);
    });

    it('the script registers them on a real Temporal server, and a second run succeeds too', async () => {
      // No --search-attribute flags: what the server has after the script is the script's doing.
      const server = await startTemporalDevServer({ uiPort: false, searchAttributes: {} });
      try {
        const temporal = requireTool('temporal');
        const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_')));
        Object.assign(env, {
          PATH: `${dirname(temporal)}:${process.env.PATH ?? ''}`,
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_NAMESPACE: 'default',
        });
        for (let run = 0; run < 2; run++) {
          const { stdout } = await execFileAsync('bash', [repoPath(hostPath)], { env, cwd: REPO_ROOT });
          expect(stdout).toContain('search attributes registered in namespace default');
        }
        expect(await registeredSearchAttributes(temporal, server.address)).toEqual(EXPECTED_SEARCH_ATTRIBUTES);
      } finally {
        await server.stop();
      }
    });
  });
});

describe('Dockerfile', () => {
  const build = dockerStages.find((stage) => stage.name === 'build');
  const runtime = dockerStages.at(-1);
  const runs = (stage: typeof build): string[] =>
    (stage?.instructions ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.rest);
  const workdir = (stage: typeof build): string =>
    (stage?.instructions ?? []).filter((i) => i.keyword === 'WORKDIR').at(-1)?.rest ?? '/';
  const env = Object.assign(
    {},
    ...(runtime?.instructions ?? []).filter((i) => i.keyword === 'ENV').map((i) => envPairs(i.rest)),
  ) as Record<string, string>;

  it('builds and runs on one node:<release>-bookworm-slim: npm install (not npm ci), build, bundle, then drops dev dependencies', () => {
    // Which release: test/e2e/node-lts.test.ts.
    const bases = dockerStages.map((stage) => stage.base);
    expect(bases).toHaveLength(2);
    expect(new Set(bases).size).toBe(1);
    expect(bases[0]).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim$/);
    const commands = runs(build).join(' && ');
    expect(commands).not.toMatch(/npm ci\b/);
    const order = ['npm install', 'npm run build', 'npm run bundle', 'npm prune --omit=dev'].map((step) =>
      commands.indexOf(step),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('copies into the build only files that exist and that .dockerignore lets through', () => {
    const ignored = dockerignorePatterns();
    const sources = (build?.instructions ?? [])
      .filter((i) => i.keyword === 'COPY' && !i.flags.from)
      .flatMap((i) => i.rest.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'scripts/bundle-workflows.js']),
    );
    for (const source of sources) {
      expect({ source, exists: existsSync(repoPath(source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored.some((pattern) => pattern.test(source)) }).toEqual({ source, ignored: false });
    }
  });

  it('.dockerignore keeps local state and build output out of the context', () => {
    const ignored = dockerignorePatterns();
    for (const path of [
      'node_modules',
      '.tools',
      '.data',
      '.cache',
      'dist',
      '.git',
      'coverage',
      'node_modules/x/index.js',
      'dist/src/config.js',
    ]) {
      expect({ path, ignored: ignored.some((pattern) => pattern.test(path)) }).toEqual({ path, ignored: true });
    }
  });

  it('runs as a non-root user with uid 10001', () => {
    const user = runtime?.instructions.filter((i) => i.keyword === 'USER').at(-1)?.rest ?? 'root';
    const uid = user.split(':')[0];
    expect(uid).toBe('10001');
    expect(runs(runtime).join(' ')).toContain('--uid 10001');
  });

  it('ships only package.json, node_modules and dist from the build stage', () => {
    const copies = (runtime?.instructions ?? []).filter((i) => i.keyword === 'COPY');
    expect(copies.every((c) => c.flags.from === 'build')).toBe(true);
    expect(copies.map((c) => c.rest.split(/\s+/)[0]).sort()).toEqual([
      '/app/dist',
      '/app/node_modules',
      '/app/package.json',
    ]);
  });

  it('points ORCH_WORKFLOW_BUNDLE at the bundle `npm run bundle` wrote in the build stage, and copies it', () => {
    const bundleOutput = packageJson.scripts.bundle.split(/\s+/).at(-1) as string;
    expect(packageJson.scripts.bundle).toBe(`node scripts/bundle-workflows.js ${bundleOutput}`);
    const builtAt = posix.join(workdir(build), bundleOutput);
    const copy = (runtime?.instructions ?? [])
      .filter((i) => i.keyword === 'COPY' && i.flags.from === 'build')
      .map((i) => i.rest.split(/\s+/))
      .find(([source]) => builtAt.startsWith(`${source}/`));
    expect(copy).toBeDefined();
    const [source, destination] = copy as string[];
    const shippedAt = posix.join(posix.resolve(workdir(runtime), destination), relative(source, builtAt));
    expect(env).toMatchObject({ NODE_ENV: 'production', ORCH_WORKFLOW_BUNDLE: shippedAt });
  });

  it('exposes 8080, checks /livez with node, and runs the worker by default', () => {
    ensureBuilt();
    const instruction = (keyword: string): string =>
      runtime?.instructions.filter((i) => i.keyword === keyword).at(-1)?.rest ?? '';
    expect(instruction('EXPOSE')).toBe(String(HTTP_PORT));
    const healthcheck = instruction('HEALTHCHECK');
    expect(healthcheck.startsWith('CMD [')).toBe(true);
    const probe = execForm(healthcheck.slice('CMD'.length).trim());
    expect(probe[0]).toBe('node');
    expect(probe.join(' ')).toContain('/livez');
    const cmd = execForm(instruction('CMD'));
    expect(cmd).toEqual(['node', 'dist/src/workers/worker.js']);
    expect(existsSync(repoPath(cmd[1]))).toBe(true);
  });
});

describe('entry points', () => {
  it.each(['worker', 'bridge'])('dist/src/workers/%s.js answers --help', async (name) => {
    ensureBuilt();
    const { stdout } = await execFileAsync(process.execPath, [`dist/src/workers/${name}.js`, '--help'], {
      cwd: REPO_ROOT,
    });
    expect(stdout).toMatch(new RegExp(`^Usage: orchestrator-${name}`));
    expect(stdout).toContain('ORCH_HTTP_PORT');
  });
});

describe('scripts/bundle-workflows.js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a workflow bundle that contains the correlation workflow', async () => {
    ensureBuilt();
    const output = join(dir, 'nested', 'workflow-bundle.js');
    const { stdout } = await execFileAsync(process.execPath, ['scripts/bundle-workflows.js', output], {
      cwd: REPO_ROOT,
    });
    expect(stdout).toContain(output);
    const code = readFileSync(output, 'utf8');
    expect(code).toContain('correlationWorkflow');
    expect(code.length).toBeGreaterThan(10_000);
  });

  it('without an output path prints its usage and exits 2', async () => {
    await expect(
      execFileAsync(process.execPath, ['scripts/bundle-workflows.js'], { cwd: REPO_ROOT }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: node scripts/bundle-workflows.js <output file>'),
    });
  });
});

describe('docs/PRODUCTION.md', () => {
  const guide = read('docs/PRODUCTION.md');
  const commands = shellCommands(guide);
  const secrets = new Map<string, SecretUse>();
  for (const name of BUILD_NAMES) {
    for (const [secret, use] of secretUses(builds[name])) {
      const known = secrets.get(secret) ?? { keys: new Set<string>(), required: new Set<string>() };
      use.keys.forEach((key) => known.keys.add(key));
      use.required.forEach((key) => known.required.add(key));
      secrets.set(secret, known);
    }
  }

  it('has commands to run', () => {
    expect(commands.length).toBeGreaterThan(10);
  });

  it('runs only npm scripts that package.json defines', () => {
    const scripts = commands.flatMap((c) => [...c.matchAll(/npm run (?:-s )?([\w:-]+)/g)].map((m) => m[1]));
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(Object.keys(packageJson.scripts)).toContain(script);
  });

  it('names only files and folders of the repository, and only kustomizations that exist', () => {
    const paths = commands.flatMap((c) =>
      [...c.matchAll(/(?:^|[\s=])((?:deploy|scripts|docs|dist|test)\/[\w./-]*)/g)].map((m) => m[1].replace(/\/$/, '')),
    );
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect({ path, exists: existsSync(repoPath(path)) }).toEqual({ path, exists: true });
    const kustomizations = commands.flatMap((c) =>
      [...c.matchAll(/kubectl (?:apply|diff|delete|kustomize)(?: -k)? (\S+)/g)].map((m) => m[1]),
    );
    expect(kustomizations.length).toBeGreaterThan(0);
    for (const dir of kustomizations) expect(existsSync(repoPath(dir, 'kustomization.yaml'))).toBe(true);
  });

  it('creates the Secrets the manifests reference, with the keys they read', () => {
    const created = new Map<string, string[]>();
    for (const command of commands.filter((c) => c.includes('kubectl create secret generic '))) {
      const name = /secret generic (\S+)/.exec(command)?.[1] as string;
      const keys = [...command.matchAll(/--from-(?:literal|file)=([\w.-]+)=/g)].map((m) => m[1]);
      expect(keys.length).toBeGreaterThan(0);
      created.set(name, [...(created.get(name) ?? []), ...keys]);
    }
    for (const [name, keys] of created) {
      expect([...secrets.keys()]).toContain(name);
      // Keys a Secret gives only as mounted files are free (TLS material); the others must be read.
      const known = secrets.get(name) as SecretUse;
      if (name !== 'orchestrator-temporal-tls')
        for (const key of keys) expect({ name, key, read: known.keys.has(key) }).toEqual({ name, key, read: true });
    }
    for (const [name, use] of secrets) {
      expect(guide).toContain(name);
      for (const key of use.required)
        expect({ name, key, created: created.get(name)?.includes(key) ?? false }).toEqual({ name, key, created: true });
    }
  });

  it('acts only on Deployments the manifests define', () => {
    const deployments = new Set(
      BUILD_NAMES.flatMap((name) => objectsOf(builds[name], 'Deployment').map((d) => d.metadata.name)),
    );
    const named = commands.flatMap((c) => [...c.matchAll(/deployment\/([\w-]+)/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(deployments).toContain(name);
  });

  it('lists the eight search attributes with their types', () => {
    for (const [name, type] of Object.entries(EXPECTED_SEARCH_ATTRIBUTES))
      expect(guide).toMatch(new RegExp(`${name}\\W+${type}\\b`));
  });

  it('builds the image with the Dockerfile and starts the compose file', () => {
    expect(commands).toEqual(
      expect.arrayContaining([expect.stringMatching(/^docker build (-t|--tag) \S+ \.$/), 'docker compose up --build']),
    );
  });
});
