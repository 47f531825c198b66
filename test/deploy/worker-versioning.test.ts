/**
 * deploy/components/worker-versioning through the real kustomize (deploy/overlays/prod-versioned):
 * a worker build becomes its own Deployment named after its image tag, polling as the Worker
 * Deployment Version the worker's own configuration reads, with a KEDA trigger on that version's
 * backlog; two builds render side by side without sharing a name or a pod.
 */
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { loadConfig } from '../../src/config';
import { asArray, asObject, build, type K8sObject, kustomizeEdit, podContainers, tempKustomization } from './kustomize';

/** prod-versioned with the worker image at `tag`, set in an overlay of its own as an operator would. */
function renderBuild(tag: string): K8sObject[] {
  const withImage = tempKustomization({ resources: ['deploy/overlays/prod'] });
  kustomizeEdit(withImage, [
    'set',
    'image',
    `registry.invalid/set-your-registry/agent-orchestrator=registry.example.com/team/agent-orchestrator:${tag}`,
  ]);
  const versioned = tempKustomization({ resources: [], components: ['deploy/components/worker-versioning'] });
  kustomizeEdit(versioned, ['add', 'resource', relative(versioned, withImage)]);
  try {
    return build(versioned).objects;
  } finally {
    rmSync(withImage, { recursive: true, force: true });
    rmSync(versioned, { recursive: true, force: true });
  }
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
};

/** The worker container's literal env values, as the worker process would see them. */
function workerEnv(deployment: K8sObject): Record<string, string> {
  const worker = podContainers(deployment).find((c) => c.name === 'worker');
  return Object.fromEntries(
    asArray(worker?.env).flatMap((e) =>
      typeof asObject(e).value === 'string' ? [[asObject(e).name as string, asObject(e).value as string]] : [],
    ),
  );
}

describe('versioned workers (deploy/components/worker-versioning)', () => {
  const build042 = renderBuild('0.4.2');

  it('names the worker Deployment after the image tag and runs it as that Worker Deployment Version', () => {
    const deployment = find(build042, 'Deployment', 'orchestrator-worker-0.4.2');
    const env = workerEnv(deployment);
    expect(env).toMatchObject({ TEMPORAL_DEPLOYMENT_NAME: 'orchestrator', TEMPORAL_WORKER_BUILD_ID: '0.4.2' });
    expect(
      loadConfig({
        TEMPORAL_DEPLOYMENT_NAME: env.TEMPORAL_DEPLOYMENT_NAME,
        TEMPORAL_WORKER_BUILD_ID: env.TEMPORAL_WORKER_BUILD_ID,
      }).workerDeployment,
    ).toEqual({
      deploymentName: 'orchestrator',
      buildId: '0.4.2',
    });
    const spec = asObject(deployment.spec);
    expect(asObject(asObject(spec.selector).matchLabels)['app.kubernetes.io/version']).toBe('0.4.2');
    expect(asObject(asObject(asObject(spec.template).metadata).labels)['app.kubernetes.io/version']).toBe('0.4.2');
    expect(
      build042
        .filter((o) => o.kind === 'Deployment')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['orchestrator-bridge', 'orchestrator-codec-server', 'orchestrator-worker-0.4.2']);
  });

  it("scales that build on its own version's backlog, read from the worker container's variables", () => {
    const scaledObject = find(build042, 'ScaledObject', 'orchestrator-worker-0.4.2');
    const spec = asObject(scaledObject.spec);
    expect(asObject(spec.scaleTargetRef)).toMatchObject({
      name: 'orchestrator-worker-0.4.2',
      envSourceContainerName: 'worker',
    });
    expect(asObject(asObject(asArray(spec.triggers)[0]).metadata)).toMatchObject({
      workerDeploymentNameFromEnv: 'TEMPORAL_DEPLOYMENT_NAME',
      workerDeploymentBuildIdFromEnv: 'TEMPORAL_WORKER_BUILD_ID',
      taskQueueFromEnv: 'ORCH_TASK_QUEUE',
    });
  });

  it('renders two builds that can run side by side: no worker Deployment or ScaledObject name in common, no pod matched by both', () => {
    const build043 = renderBuild('0.4.3');
    const perBuild = (objects: K8sObject[]) =>
      objects
        .filter(
          (o) => ['Deployment', 'ScaledObject'].includes(o.kind) && o.metadata.name.startsWith('orchestrator-worker'),
        )
        .map((o) => `${o.kind}/${o.metadata.name}`);
    expect(perBuild(build042).sort()).toEqual([
      'Deployment/orchestrator-worker-0.4.2',
      'ScaledObject/orchestrator-worker-0.4.2',
    ]);
    expect(perBuild(build043).sort()).toEqual([
      'Deployment/orchestrator-worker-0.4.3',
      'ScaledObject/orchestrator-worker-0.4.3',
    ]);
    const podLabels = asObject(
      asObject(asObject(asObject(find(build043, 'Deployment', 'orchestrator-worker-0.4.3').spec).template).metadata)
        .labels,
    );
    const selector042 = asObject(
      asObject(asObject(find(build042, 'Deployment', 'orchestrator-worker-0.4.2').spec).selector).matchLabels,
    );
    expect(Object.entries(selector042).every(([key, value]) => podLabels[key] === value)).toBe(false);
  });
});
