/**
 * Every kustomization under deploy/ rendered by the real kustomize and validated by kubeconform,
 * strictly and offline, against the schemas pinned in test/fixtures/k8s-schemas: what
 * scripts/check-deploy.sh does for an operator. Components are checked on each overlay.
 */
import { rmSync } from 'node:fs';
import { build, checkDeploy, kustomizationDirs, tempKustomization } from './kustomize';

const kustomizations = kustomizationDirs();
const components = kustomizations.filter((k) => k.component).map((k) => k.dir);
const overlays = kustomizations.filter((k) => k.dir.startsWith('deploy/overlays/')).map((k) => k.dir);
const SUMMARY =
  /^Summary: (\d+) resources? found parsing stdin - Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)$/m;

/** kubeconform's summary line of a check's output, as numbers. */
function summary(output: string): { found: number; valid: number; invalid: number; errors: number; skipped: number } {
  const match = SUMMARY.exec(output);
  if (!match) throw new Error(`no kubeconform summary in:\n${output}`);
  const [found, valid, invalid, errors, skipped] = match.slice(1).map(Number);
  return { found, valid, invalid, errors, skipped };
}

describe('scripts/check-deploy.sh: kustomize build | kubeconform -strict', () => {
  const temporary: string[] = [];
  afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const temp = (...args: Parameters<typeof tempKustomization>): string => {
    const dir = tempKustomization(...args);
    temporary.push(dir);
    return dir;
  };

  it('finds the kustomizations: base, the overlays, Temporal, NATS, monitoring; and the bridge KEDA and worker versioning components', () => {
    expect(kustomizations.filter((k) => !k.component).map((k) => k.dir)).toEqual([
      'deploy/base',
      'deploy/monitoring',
      'deploy/nats',
      'deploy/overlays/dev',
      'deploy/overlays/prod',
      'deploy/overlays/prod-versioned',
      'deploy/temporal',
    ]);
    expect(components).toEqual(['deploy/components/bridge-keda', 'deploy/components/worker-versioning']);
  });

  it('without arguments, validates every kustomization under deploy/: each object of each, all valid', async () => {
    const run = await checkDeploy([]);
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const sections = run.stdout.split(/^== /m).filter(Boolean);
    const checked = sections.map((section) => section.split('\n')[0]);
    expect(checked).toEqual(kustomizations.filter((k) => !k.component).map((k) => k.dir));
    for (const section of sections) {
      const dir = section.split('\n')[0];
      const rendered = build(dir).objects.length;
      expect({ dir, ...summary(section) }).toEqual({
        dir,
        found: rendered,
        valid: rendered,
        invalid: 0,
        errors: 0,
        skipped: 0,
      });
    }
  });

  it.each(components.flatMap((component) => overlays.map((overlay) => [component, overlay])))(
    '%s on %s: valid',
    async (component, overlay) => {
      const dir = temp({ resources: [overlay], components: [component] });
      const run = await checkDeploy([dir]);
      expect(run.status).toBe(0);
      const rendered = build(dir).objects.length;
      expect(summary(run.stdout)).toEqual({ found: rendered, valid: rendered, invalid: 0, errors: 0, skipped: 0 });
    },
  );

  it('a misspelt field fails the check, in a built-in kind and in a custom resource alike, and is named', async () => {
    const dir = temp(
      { resources: ['deploy/overlays/prod'] },
      {
        'patch-worker.yaml':
          'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orchestrator-worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          imagePullPolcy: Always\n',
        'patch-scaledobject.yaml':
          'apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: orchestrator-worker\nspec:\n  minReplicaCnt: 1\n',
      },
    );
    const run = await checkDeploy([dir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /Deployment orchestrator-worker is invalid: .* additional properties 'imagePullPolcy' not allowed/,
    );
    expect(run.stdout).toMatch(
      /ScaledObject orchestrator-worker is invalid: .* additional properties 'minReplicaCnt' not allowed/,
    );
    expect(summary(run.stdout)).toMatchObject({ invalid: 2, errors: 0 });
  });

  it('a kind without a pinned schema fails instead of being skipped', async () => {
    const dir = temp(
      {},
      {
        'resource-job.yaml':
          'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: one-off\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: x\n          image: busybox:1.37\n',
      },
    );
    const run = await checkDeploy([dir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('Job one-off failed validation: could not find schema for Job');
    expect(summary(run.stdout)).toEqual({ found: 1, valid: 0, invalid: 0, errors: 1, skipped: 0 });
  });

  it("a kustomization kustomize refuses fails the check with kustomize's message", async () => {
    const dir = temp(
      { resources: ['deploy/base'] },
      {
        'patch-missing.yaml':
          'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orchestrator-workers\nspec:\n  replicas: 1\n',
      },
    );
    const run = await checkDeploy([dir]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('orchestrator-workers');
  });
});
