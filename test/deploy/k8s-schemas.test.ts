/**
 * scripts/k8s-schemas.ts, the generator of test/fixtures/k8s-schemas, on small inputs: each step of
 * the conversion kubeconform's strict schemas need, and the file names kubeconform looks up.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILT_IN_DIR,
  BUILT_IN_KINDS,
  builtInFileName,
  builtInSchema,
  crdFileName,
  crdSchemas,
  denyAdditionalProperties,
  inlineRefs,
  intOrString,
  SCHEMAS_DIR,
  type Schema,
} from '../../scripts/k8s-schemas';

const definitions: Record<string, Schema> = {
  Thing: {
    description: 'a thing',
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, spec: { $ref: '#/definitions/Spec' } },
    'x-kubernetes-group-version-kind': [{ group: 'things.example.com', version: 'v2', kind: 'Thing' }],
  },
  Spec: {
    properties: {
      port: { $ref: '#/definitions/IntOrString' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      items: { type: 'array', items: { $ref: '#/definitions/Item' } },
    },
  },
  IntOrString: { type: 'string', format: 'int-or-string' },
  Item: { properties: { name: { type: 'string' } }, required: ['name'] },
};

describe('scripts/k8s-schemas.ts', () => {
  it('inlines references, however deep', () => {
    expect(inlineRefs({ $ref: '#/definitions/Spec' }, definitions)).toEqual({
      properties: {
        port: { type: 'string', format: 'int-or-string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        items: { type: 'array', items: { properties: { name: { type: 'string' } }, required: ['name'] } },
      },
    });
  });

  it('refuses a reference cycle and a missing definition, naming them', () => {
    expect(() =>
      inlineRefs(
        { $ref: '#/definitions/A' },
        { A: { properties: { b: { $ref: '#/definitions/B' } } }, B: { items: { $ref: '#/definitions/A' } } },
      ),
    ).toThrow('reference cycle: A > B > A');
    expect(() => inlineRefs({ properties: { x: { $ref: '#/definitions/Nope' } } }, {})).toThrow('no definition Nope');
  });

  it('strict: every object with properties, at any depth, accepts no others; a map keeps its value schema', () => {
    const strict = denyAdditionalProperties(inlineRefs({ $ref: '#/definitions/Spec' }, definitions));
    expect(strict.additionalProperties).toBe(false);
    const properties = strict.properties as Record<string, Schema>;
    expect(properties.labels.additionalProperties).toEqual({ type: 'string' });
    expect((properties.items.items as Schema).additionalProperties).toBe(false);
  });

  it('int-or-string becomes a string or an integer', () => {
    expect(intOrString({ properties: { port: { type: 'string', format: 'int-or-string' } } })).toEqual({
      properties: { port: { oneOf: [{ type: 'string' }, { type: 'integer' }] } },
    });
  });

  it('a built-in kind: found by group, version and kind, standalone and strict, apiVersion and kind pinned, no descriptions', () => {
    const schema = builtInSchema(definitions, { group: 'things.example.com', version: 'v2', kind: 'Thing' });
    const properties = schema.properties as Record<string, Schema>;
    expect(properties.apiVersion).toEqual({ type: 'string', enum: ['things.example.com/v2'] });
    expect(properties.kind).toEqual({ type: 'string', enum: ['Thing'] });
    expect(schema.additionalProperties).toBe(false);
    expect(schema.description).toBeUndefined();
    expect((properties.spec.properties as Record<string, Schema>).port).toEqual({
      oneOf: [{ type: 'string' }, { type: 'integer' }],
    });
    expect(() => builtInSchema(definitions, { group: 'things.example.com', version: 'v1', kind: 'Thing' })).toThrow(
      'defines no things.example.com/v1 Thing',
    );
  });

  it('a CRD: one schema per version, strict from the root, its metadata checked as ObjectMeta', () => {
    const objectMeta: Schema = {
      type: 'object',
      properties: { name: { type: 'string' } },
      additionalProperties: false,
    };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      spec: {
        group: 'keda.sh',
        names: { kind: 'ScaledObject' },
        versions: [
          {
            name: 'v1alpha1',
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  apiVersion: { type: 'string' },
                  kind: { type: 'string' },
                  metadata: { type: 'object' },
                  spec: { type: 'object', properties: { minReplicaCount: { type: 'integer' } } },
                },
              },
            },
          },
        ],
      },
    };
    const [{ gvk, schema }] = crdSchemas(crd, objectMeta);
    expect(crdFileName(gvk)).toBe(join('keda.sh', 'scaledobject_v1alpha1.json'));
    expect(schema.additionalProperties).toBe(false);
    const properties = schema.properties as Record<string, Schema>;
    expect(properties.metadata).toEqual(objectMeta);
    expect(properties.spec.additionalProperties).toBe(false);
    expect(properties.apiVersion.enum).toEqual(['keda.sh/v1alpha1']);
  });

  it('names built-in kinds as kubeconform looks them up, and the fixtures hold each kind it lists', () => {
    expect(builtInFileName({ group: 'apps', version: 'v1', kind: 'Deployment' })).toBe('deployment-apps-v1.json');
    expect(builtInFileName({ group: '', version: 'v1', kind: 'ConfigMap' })).toBe('configmap-v1.json');
    expect(builtInFileName({ group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' })).toBe(
      'poddisruptionbudget-policy-v1.json',
    );
    for (const gvk of BUILT_IN_KINDS)
      expect({ gvk, exists: existsSync(join(SCHEMAS_DIR, BUILT_IN_DIR, builtInFileName(gvk))) }).toEqual({
        gvk,
        exists: true,
      });
  });
});
