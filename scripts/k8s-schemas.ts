/**
 * Regenerates test/fixtures/k8s-schemas: the JSON schemas kubeconform validates deploy/'s rendered
 * objects against (test/deploy), so that the check runs offline and always against the same API.
 *
 *   npx tsx scripts/k8s-schemas.ts
 *
 * The sources are Go modules at pinned versions, fetched with `go mod download` into the module
 * cache of scripts/install-tools.sh: the Kubernetes API's OpenAPI (v2) document, and the
 * CustomResourceDefinitions of KEDA and the Prometheus Operator. Only the kinds the kustomizations
 * render are written: kubeconform fails on a kind it has no schema for, which is how a new kind
 * shows up (add it below and run this again).
 *
 * The conversion is the one kubeconform's own schemas get (the yannh/kubernetes-json-schema
 * "standalone-strict" files and kubeconform's openapi2jsonschema.py for CRDs): references inlined,
 * `additionalProperties: false` on every object whose properties are given (a misspelt field is an
 * error), int-or-string as a oneOf, apiVersion and kind pinned by an enum. Two differences, both
 * stricter or smaller: a CRD's `metadata` gets the ObjectMeta schema of the same Kubernetes release
 * (CRDs leave it open, so a misspelt `lables` would pass), and descriptions are dropped (they are
 * most of the bytes and kubeconform's messages do not show them). Optional fields are not made
 * nullable as in the yannh files: the manifests never write `null`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot, toolsDir } from '../src/devstack/tools';

export type Schema = { [key: string]: unknown };

export interface GroupVersionKind {
  /** '' for the core group (apiVersion v1). */
  group: string;
  version: string;
  kind: string;
}

/** The Kubernetes release whose API the built-in kinds are checked against (kubeconform -kubernetes-version). */
export const KUBERNETES_VERSION = '1.35.4';

const MODULES = {
  kubernetes: { path: 'k8s.io/kubernetes', version: `v${KUBERNETES_VERSION}` },
  keda: { path: 'github.com/kedacore/keda/v2', version: 'v2.21.0' },
  // The newest version of the repository's root module (which carries the CRDs) that the Go module proxy serves.
  prometheusOperator: { path: 'github.com/prometheus-operator/prometheus-operator', version: 'v0.85.0' },
} as const;

const OPENAPI_FILE = 'api/openapi-spec/swagger.json';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

export const BUILT_IN_KINDS: readonly GroupVersionKind[] = [
  { group: '', version: 'v1', kind: 'ConfigMap' },
  { group: '', version: 'v1', kind: 'Service' },
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' },
];

const CRD_FILES: readonly { module: keyof typeof MODULES; file: string }[] = [
  { module: 'keda', file: 'config/crd/bases/keda.sh_scaledobjects.yaml' },
  { module: 'keda', file: 'config/crd/bases/keda.sh_triggerauthentications.yaml' },
  { module: 'prometheusOperator', file: 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml' },
  { module: 'prometheusOperator', file: 'example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml' },
];

export const SCHEMAS_DIR = join(repoRoot(), 'test', 'fixtures', 'k8s-schemas');
/**
 * kubeconform's layout for built-in kinds under a local -schema-location:
 * <dir>/v<version>-standalone-strict/<kind>-<group>-<version>.json.
 */
export const BUILT_IN_DIR = `v${KUBERNETES_VERSION}-standalone-strict`;

/** kubeconform's file name for a built-in kind: `deployment-apps-v1.json`, `configmap-v1.json`. */
export function builtInFileName({ group, version, kind }: GroupVersionKind): string {
  return `${[kind, group.split('.')[0], version].filter(Boolean).join('-').toLowerCase()}.json`;
}

/** openapi2jsonschema's layout for a CRD, in a folder per group: `keda.sh/scaledobject_v1alpha1.json`. */
export function crdFileName({ group, version, kind }: GroupVersionKind): string {
  return join(group, `${kind.toLowerCase()}_${version}.json`);
}

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A copy of the schema with `transform` applied to each schema directly inside it. */
function mapChildren(schema: Schema, transform: (schema: Schema) => Schema): Schema {
  const out: Schema = { ...schema };
  if (isSchema(schema.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([name, property]) => [name, transform(property as Schema)]),
    );
  }
  for (const key of ['items', 'additionalProperties', 'not']) {
    if (isSchema(schema[key])) out[key] = transform(schema[key]);
  }
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    if (Array.isArray(schema[key])) out[key] = (schema[key] as Schema[]).map(transform);
  }
  return out;
}

/** Applies `transform` to a schema and to every schema inside it, innermost first. */
function mapSchemas(schema: Schema, transform: (schema: Schema) => Schema): Schema {
  return transform(mapChildren(schema, (child) => mapSchemas(child, transform)));
}

/** Replaces each `$ref: '#/definitions/<name>'` with the definition, recursively; a reference cycle is an error. */
export function inlineRefs(schema: Schema, definitions: Record<string, Schema>, path: readonly string[] = []): Schema {
  if (typeof schema.$ref !== 'string') return mapChildren(schema, (child) => inlineRefs(child, definitions, path));
  const name = schema.$ref.replace(/^#\/definitions\//, '');
  const definition = definitions[name];
  if (!definition) throw new Error(`no definition ${name} (referenced from ${path.join(' > ') || 'the root'})`);
  if (path.includes(name)) throw new Error(`reference cycle: ${[...path, name].join(' > ')}`);
  return inlineRefs(definition, definitions, [...path, name]);
}

/** Strict mode: an object whose properties are given accepts no others (unless it says what they may be). */
export function denyAdditionalProperties(schema: Schema): Schema {
  return mapSchemas(schema, (s) =>
    isSchema(s.properties) && !('additionalProperties' in s) ? { ...s, additionalProperties: false } : s,
  );
}

/** Kubernetes' `format: int-or-string` (a port, a percentage) as JSON Schema: a string or an integer. */
export function intOrString(schema: Schema): Schema {
  return mapSchemas(schema, (s) =>
    s.format === 'int-or-string' ? { oneOf: [{ type: 'string' }, { type: 'integer' }] } : s,
  );
}

function withoutDescriptions(schema: Schema): Schema {
  return mapSchemas(schema, ({ description: _description, ...rest }) => rest);
}

/** apiVersion and kind accept only this kind's values. */
function pinKind(schema: Schema, { group, version, kind }: GroupVersionKind): Schema {
  const properties = schema.properties as Record<string, Schema>;
  const apiVersion = group ? `${group}/${version}` : version;
  return {
    ...schema,
    properties: {
      ...properties,
      apiVersion: { ...properties.apiVersion, enum: [apiVersion] },
      kind: { ...properties.kind, enum: [kind] },
    },
  };
}

/** The standalone strict schema of a built-in kind, from the definitions of Kubernetes' OpenAPI v2 document. */
export function builtInSchema(definitions: Record<string, Schema>, gvk: GroupVersionKind): Schema {
  const [name] =
    Object.entries(definitions).find(([, definition]) =>
      ((definition['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined) ?? []).some(
        (g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind,
      ),
    ) ?? [];
  if (!name) throw new Error(`the OpenAPI document defines no ${gvk.group || 'core'}/${gvk.version} ${gvk.kind}`);
  return pinKind(
    denyAdditionalProperties(intOrString(withoutDescriptions(inlineRefs(definitions[name], definitions)))),
    gvk,
  );
}

/** One strict schema per version of a CustomResourceDefinition, its metadata checked as ObjectMeta. */
export function crdSchemas(crd: Schema, objectMeta: Schema): { gvk: GroupVersionKind; schema: Schema }[] {
  const spec = crd.spec as {
    group: string;
    names: { kind: string };
    versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[];
  };
  if (crd.kind !== 'CustomResourceDefinition') throw new Error(`not a CustomResourceDefinition: ${String(crd.kind)}`);
  return spec.versions.map((version) => {
    const gvk = { group: spec.group, version: version.name, kind: spec.names.kind };
    const openApi = version.schema?.openAPIV3Schema;
    if (!openApi) throw new Error(`${spec.names.kind} ${version.name} has no openAPIV3Schema`);
    const properties = { ...(openApi.properties as Record<string, Schema>), metadata: objectMeta };
    return { gvk, schema: pinKind(denyAdditionalProperties(withoutDescriptions({ ...openApi, properties })), gvk) };
  });
}

/** Downloads a module version into the tools' module cache (scripts/install-tools.sh's) and returns its folder. */
function moduleDir({ path, version }: { path: string; version: string }): string {
  const cache = join(toolsDir(), 'go');
  const output = execFileSync('go', ['mod', 'download', '-json', `${path}@${version}`], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GOMODCACHE: join(cache, 'mod'),
      GOCACHE: join(cache, 'cache'),
      GOFLAGS: '-modcacherw',
      GOTOOLCHAIN: 'local',
    },
  });
  const { Dir, Error: error } = JSON.parse(output) as { Dir?: string; Error?: string };
  if (!Dir) throw new Error(`go mod download ${path}@${version}: ${error ?? 'no folder'}`);
  return Dir;
}

function writeSchema(file: string, schema: Schema): void {
  mkdirSync(join(SCHEMAS_DIR, file, '..'), { recursive: true });
  writeFileSync(join(SCHEMAS_DIR, file), `${JSON.stringify(schema, null, 1)}\n`);
}

function readme(files: string[]): string {
  const source = (key: keyof typeof MODULES): string => `\`${MODULES[key].path}\` ${MODULES[key].version}`;
  return `# Kubernetes schemas for kubeconform

Generated by \`npx tsx scripts/k8s-schemas.ts\` (which says how); do not edit. test/deploy validates
every kustomization under deploy/ with \`kustomize build | kubeconform -strict\` against these files
only, offline.

| schemas | source |
|---|---|
| built-in kinds, Kubernetes ${KUBERNETES_VERSION} (\`${BUILT_IN_DIR}/\`) | ${source('kubernetes')}, \`${OPENAPI_FILE}\` |
| \`keda.sh/\` | ${source('keda')}, ${CRD_FILES.filter((c) => c.module === 'keda')
    .map((c) => `\`${c.file}\``)
    .join(', ')} |
| \`monitoring.coreos.com/\` | ${source('prometheusOperator')}, ${CRD_FILES.filter(
    (c) => c.module === 'prometheusOperator',
  )
    .map((c) => `\`${c.file}\``)
    .join(', ')} |

Files:

${files.map((file) => `- \`${file}\``).join('\n')}
`;
}

function main(): void {
  const openApi = JSON.parse(readFileSync(join(moduleDir(MODULES.kubernetes), OPENAPI_FILE), 'utf8')) as {
    definitions: Record<string, Schema>;
  };
  const objectMeta = denyAdditionalProperties(
    withoutDescriptions(inlineRefs(openApi.definitions[OBJECT_META], openApi.definitions)),
  );
  rmSync(SCHEMAS_DIR, { recursive: true, force: true });
  const files: string[] = [];
  for (const gvk of BUILT_IN_KINDS) {
    const file = join(BUILT_IN_DIR, builtInFileName(gvk));
    writeSchema(file, builtInSchema(openApi.definitions, gvk));
    files.push(file);
  }
  for (const { module, file: crdFile } of CRD_FILES) {
    const documents = parseAllDocuments(readFileSync(join(moduleDir(MODULES[module]), crdFile), 'utf8')).map(
      (d) => d.toJS() as Schema,
    );
    for (const { gvk, schema } of documents.flatMap((crd) => crdSchemas(crd, objectMeta))) {
      const file = crdFileName(gvk);
      writeSchema(file, schema);
      files.push(file);
    }
  }
  writeFileSync(join(SCHEMAS_DIR, 'README.md'), readme(files));
  console.log(`wrote ${files.length} schemas to ${SCHEMAS_DIR}`);
}

if (require.main === module) main();
