/** When the bridge in a versioned worker may start correlations eagerly: a hand-written table. */
import { routesAllNewWorkTo } from '../src/bridge/deployment-routing';

const A = { deploymentName: 'orchestrator', buildId: 'A' };

describe('routesAllNewWorkTo', () => {
  it.each([
    ['A is current, nothing ramps', { currentDeploymentVersion: A }, true],
    [
      'A is current, B ramps at 20 %',
      {
        currentDeploymentVersion: A,
        rampingDeploymentVersion: { deploymentName: 'orchestrator', buildId: 'B' },
        rampingVersionPercentage: 20,
      },
      false,
    ],
    [
      'A is current, unversioned workers ramp at 10 %',
      { currentDeploymentVersion: A, rampingVersionPercentage: 10 },
      false,
    ],
    [
      'A is current, B set to ramp at 0 %',
      {
        currentDeploymentVersion: A,
        rampingDeploymentVersion: { deploymentName: 'orchestrator', buildId: 'B' },
        rampingVersionPercentage: 0,
      },
      false,
    ],
    ['B is current', { currentDeploymentVersion: { deploymentName: 'orchestrator', buildId: 'B' } }, false],
    [
      'build A of another deployment is current',
      { currentDeploymentVersion: { deploymentName: 'other', buildId: 'A' } },
      false,
    ],
    ['no current version (unversioned workers get new work)', {}, false],
    ['no routing read yet', undefined, false],
  ])('%s: %s', (_case, routing, expected) => {
    expect(routesAllNewWorkTo(routing, A)).toBe(expected);
  });
});
