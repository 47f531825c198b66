/**
 * Just enough of kustomize to check deploy/ without a cluster or the kustomize binary: a
 * kustomization's resources (files and directories), its `configMapGenerator` (files, with fixed
 * names: `generatorOptions.disableNameSuffixHash`), its `patches` (strategic merge patch files,
 * their target named by apiVersion group, kind and metadata.name), `$patch: delete`, `namespace`
 * and `images`.
 *
 * The merge is strategic-ish: maps merge recursively; in built-in kinds, lists whose items all have
 * a `name` (containers, env, volumes, ports, ...) merge item by item on it; other lists, and every
 * list of a custom resource (kustomize has no schema for them), are replaced by the patch's.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface Patch {
  /** The patch file, relative to the repository root. */
  file: string;
  object: K8sObject;
}

export interface Build {
  /** The objects after patches, namespace and images, as `kubectl kustomize` would print them. */
  objects: K8sObject[];
  /** The resources before this kustomization's own patches (the base, for an overlay). */
  resources: K8sObject[];
  patches: Patch[];
  /** Patches whose target is not among the resources (kustomize refuses them). */
  unmatched: Patch[];
  /** Every file this kustomization and the ones it includes read, relative to the repository root. */
  files: string[];
}

interface Kustomization {
  resources?: string[];
  configMapGenerator?: { name: string; files?: string[]; [other: string]: unknown }[];
  generatorOptions?: { disableNameSuffixHash?: boolean; labels?: Record<string, string>; [other: string]: unknown };
  patches?: ({ path: string; target?: unknown } | { patch: string })[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
}

/** Kinds the Kubernetes API server knows (strategic merge by list item name applies to them). */
const BUILT_IN_GROUPS = new Set(['v1', 'apps/v1', 'policy/v1', 'autoscaling/v2', 'batch/v1', 'networking.k8s.io/v1']);

export function isBuiltIn(object: K8sObject): boolean {
  return BUILT_IN_GROUPS.has(object.apiVersion);
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

function asK8sObject(value: Json, file: string): K8sObject {
  const object = asObject(value);
  const metadata = asObject(object.metadata);
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof metadata.name !== 'string') {
    throw new Error(`${file}: a document without apiVersion, kind and metadata.name`);
  }
  return object as K8sObject;
}

/** apiVersion's group (the version may change between a base and its patch), kind and name. */
export function objectKey(object: K8sObject): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return `${group}/${object.kind}/${object.metadata.name}`;
}

export function buildKustomization(dir: string, root: string): Build {
  const kustomizationFile = join(dir, 'kustomization.yaml');
  const [raw] = loadYaml(kustomizationFile);
  const kustomization = asObject(raw) as Kustomization;
  const files = [relative(root, kustomizationFile)];
  const resources: K8sObject[] = [];
  for (const entry of kustomization.resources ?? []) {
    const path = resolve(dir, entry);
    if (statSync(path).isDirectory()) {
      const nested = buildKustomization(path, root);
      resources.push(...nested.objects);
      files.push(...nested.files);
    } else {
      resources.push(...loadYaml(path).map((doc) => asK8sObject(doc, path)));
      files.push(relative(root, path));
    }
  }
  for (const generated of generateConfigMaps(kustomization, dir, kustomizationFile)) {
    resources.push(generated.object);
    files.push(...generated.files.map((file) => relative(root, file)));
  }
  const patches: Patch[] = [];
  for (const entry of kustomization.patches ?? []) {
    if (!('path' in entry) || entry.target !== undefined) {
      throw new Error(`${kustomizationFile}: only plain patch files (path, target from the patch itself) are supported`);
    }
    const path = resolve(dir, entry.path);
    files.push(relative(root, path));
    for (const doc of loadYaml(path)) patches.push({ file: relative(root, path), object: asK8sObject(doc, path) });
  }

  let objects = resources.map((o) => structuredClone(o));
  const unmatched: Patch[] = [];
  for (const entry of patches) {
    const patch = entry.object;
    const index = objects.findIndex((o) => objectKey(o) === objectKey(patch));
    if (index < 0) {
      unmatched.push(entry);
    } else if (patch.$patch === 'delete') {
      objects = objects.filter((_, i) => i !== index);
    } else {
      objects[index] = mergePatch(objects[index], patch, isBuiltIn(objects[index])) as K8sObject;
    }
  }
  if (kustomization.namespace) {
    for (const object of objects) object.metadata.namespace = kustomization.namespace;
  }
  for (const image of kustomization.images ?? []) {
    for (const container of objects.flatMap(podContainers)) {
      if (imageName(String(container.image)) !== image.name) continue;
      const name = image.newName ?? image.name;
      container.image = image.digest ? `${name}@${image.digest}` : `${name}:${image.newTag ?? imageTag(String(container.image)) ?? 'latest'}`;
    }
  }
  return { objects, resources, patches, unmatched, files };
}

/**
 * The ConfigMaps of `configMapGenerator`: one key per file (its base name, or `key=path`), the
 * file's text as the value. Only fixed names: kustomize's content hash, and the renaming of every
 * reference to the ConfigMap it implies, are not implemented.
 */
function generateConfigMaps(kustomization: Kustomization, dir: string, kustomizationFile: string): { object: K8sObject; files: string[] }[] {
  const generators = kustomization.configMapGenerator ?? [];
  if (generators.length === 0) return [];
  const options = kustomization.generatorOptions ?? {};
  const unsupportedOptions = Object.keys(options).filter((key) => !['disableNameSuffixHash', 'labels'].includes(key));
  if (options.disableNameSuffixHash !== true || unsupportedOptions.length > 0) {
    throw new Error(`${kustomizationFile}: only generatorOptions.disableNameSuffixHash: true (and labels) are supported`);
  }
  return generators.map((generator) => {
    const unsupported = Object.keys(generator).filter((key) => !['name', 'files'].includes(key));
    if (unsupported.length > 0) throw new Error(`${kustomizationFile}: configMapGenerator ${generator.name}: only name and files are supported, not ${unsupported.join(', ')}`);
    const data: Record<string, string> = {};
    const files: string[] = [];
    for (const entry of generator.files ?? []) {
      const [key, path] = entry.includes('=') ? [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] : [basename(entry), entry];
      const file = resolve(dir, path);
      // kustomize's default load restrictor: nothing from outside the kustomization's folder.
      if (relative(dir, file).startsWith('..')) throw new Error(`${kustomizationFile}: ${entry} is outside the kustomization's folder`);
      if (key in data) throw new Error(`${kustomizationFile}: configMapGenerator ${generator.name}: key ${key} twice`);
      data[key] = readFileSync(file, 'utf8');
      files.push(file);
    }
    const metadata: K8sObject['metadata'] = { name: generator.name, ...(options.labels ? { labels: { ...options.labels } } : {}) };
    return { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata, data }, files };
  });
}

function mergePatch(base: Json | undefined, patch: Json, mergeNamedLists: boolean): Json | undefined {
  if (patch === null) return undefined;
  if (isMap(base) && isMap(patch)) {
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (key === '$patch') continue;
      const merged = mergePatch(base[key], value, mergeNamedLists);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  if (mergeNamedLists && Array.isArray(base) && Array.isArray(patch) && [...base, ...patch].every((item) => isMap(item) && typeof item.name === 'string')) {
    const out = base.map((item) => structuredClone(item));
    for (const item of patch as JsonObject[]) {
      const index = out.findIndex((existing) => (existing as JsonObject).name === item.name);
      if (index >= 0) out[index] = mergePatch(out[index], item, mergeNamedLists) ?? item;
      else out.push(item);
    }
    return out;
  }
  return patch;
}

function isMap(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The containers (and init containers) of a workload's pod template; none for other kinds. */
export function podContainers(object: K8sObject): JsonObject[] {
  const podSpec = asObject(asObject(asObject(object.spec).template).spec);
  return [...asArray(podSpec.initContainers), ...asArray(podSpec.containers)].map(asObject);
}

export function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
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

