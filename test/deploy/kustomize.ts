/**
 * deploy/ as the real tools see it: `kustomize build` renders a kustomization into the objects the
 * checks read, and scripts/check-deploy.sh validates the rendering with kubeconform against the
 * schemas pinned in test/fixtures/k8s-schemas. Also the small readers the checks use on rendered
 * objects and on docker-compose.yml.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { requireTool } from '../../src/devstack/tools';
import { REPO_ROOT } from '../support/paths';
import { type CommandRun, runCommand } from '../support/run-command';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** A kustomization folder (relative to the repository root) and the objects `kustomize build` renders from it. */
export interface Build {
  dir: string;
  objects: K8sObject[];
}

/** Every document of a YAML file; a syntax error or warning fails loudly, naming the file. */
export function loadYaml(file: string): Json[] {
  return parseYaml(readFileSync(file, 'utf8'), file);
}

/** Every document of YAML text; a syntax error or warning fails loudly, naming where it came from. */
export function parseYaml(text: string, source: string): Json[] {
  const documents = parseAllDocuments(text, { merge: true });
  const docs = Array.isArray(documents) ? documents : [documents];
  const problems = docs.flatMap((d) => [...d.errors, ...d.warnings]).map((e) => e.message);
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}`);
  return docs.map((d) => d.toJS() as Json).filter((d) => d !== null);
}

export function asObject(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

export function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

/** `kustomize build <dir>`'s output; a kustomization kustomize refuses throws with its message. */
function kustomizeBuild(dir: string): string {
  return execFileSync(requireTool('kustomize'), ['build', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The objects a kustomization renders. */
export function build(dir: string): Build {
  const objects = parseYaml(kustomizeBuild(resolve(REPO_ROOT, dir)), `kustomize build ${dir}`) as K8sObject[];
  return { dir, objects };
}

/** `kustomize edit <args>` in a kustomization folder (it rewrites its kustomization.yaml). */
export function kustomizeEdit(dir: string, args: string[]): void {
  execFileSync(requireTool('kustomize'), ['edit', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A kustomization in a temporary folder (remove it when done): these resources and components of
 * the repository (paths relative to its root), and these files beside it, listed as patches
 * (`patch-*`) or resources (`resource-*`).
 */
export function tempKustomization(
  entries: { resources?: string[]; components?: string[] },
  files: Record<string, string> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-kustomization-'));
  const fromRepository = (paths: string[] = []): string[] => paths.map((path) => relative(dir, join(REPO_ROOT, path)));
  const beside = (prefix: string): string[] => Object.keys(files).filter((name) => name.startsWith(prefix));
  const kustomization = {
    resources: [...fromRepository(entries.resources), ...beside('resource-')],
    components: fromRepository(entries.components),
    patches: beside('patch-').map((path) => ({ path })),
  };
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    stringify(Object.fromEntries(Object.entries(kustomization).filter(([, list]) => list.length > 0))),
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** scripts/check-deploy.sh on these kustomization folders (all of deploy/ without any). */
export function checkDeploy(dirs: string[]): Promise<CommandRun> {
  return runCommand('bash', [join(REPO_ROOT, 'scripts', 'check-deploy.sh'), ...dirs], { timeoutMs: 60_000 });
}

/**
 * Every folder under deploy/ with a kustomization.yaml, relative to the repository root, and whether it is a Component.
 */
export function kustomizationDirs(): { dir: string; component: boolean }[] {
  return (
    readdirSync(join(REPO_ROOT, 'deploy'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.split(/[\\/]/).at(-1) === 'kustomization.yaml')
      .map((file) => {
        const kustomization = asObject(loadYaml(join(REPO_ROOT, 'deploy', file))[0]);
        return { dir: join('deploy', file, '..').split('\\').join('/'), component: kustomization.kind === 'Component' };
      })
      // Byte order, as scripts/check-deploy.sh lists them.
      .sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0))
  );
}

/**
 * The files a kustomization names, and those of the folders it names, relative to the repository
 * root: its resources, components, patch files and generator files.
 */
export function referencedFiles(dir: string): string[] {
  const absolute = resolve(REPO_ROOT, dir);
  const kustomization = asObject(loadYaml(join(absolute, 'kustomization.yaml'))[0]);
  const named = [
    ...asArray(kustomization.resources),
    ...asArray(kustomization.components),
    ...asArray(kustomization.patches).map((patch) => asObject(patch).path),
    ...[...asArray(kustomization.configMapGenerator), ...asArray(kustomization.secretGenerator)].flatMap((generator) =>
      asArray(asObject(generator).files),
    ),
  ]
    .filter((entry): entry is string => typeof entry === 'string')
    .map((entry) => resolve(absolute, entry.slice(entry.indexOf('=') + 1)));
  return [
    relative(REPO_ROOT, join(absolute, 'kustomization.yaml')),
    ...named.flatMap((path) =>
      existsSync(join(path, 'kustomization.yaml'))
        ? referencedFiles(relative(REPO_ROOT, path))
        : [relative(REPO_ROOT, path)],
    ),
  ].map((path) => path.split('\\').join('/'));
}

/** The containers (and init containers) of a workload's pod template; none for other kinds. */
export function podContainers(object: K8sObject): JsonObject[] {
  const podSpec = asObject(asObject(asObject(object.spec).template).spec);
  return [...asArray(podSpec.initContainers), ...asArray(podSpec.containers)].map(asObject);
}

export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? withoutDigest : withoutDigest.slice(0, colon);
}

export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}
