/**
 * scripts/install-tools.sh on a machine without Go: the temporal CLI comes from the Temporal SDK's
 * own download of the same release, and when that cannot reach the internet either (this machine
 * cannot) the script stops with one message that says what went wrong and the three ways out. The
 * cluster engine's tools are skipped with a warning instead: the dev engine runs without them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/paths';
import { runCommand } from '../support/run-command';

/** PATH with node and the system's tools, but not Go (/usr/local/go/bin here). */
const PATH_WITHOUT_GO = [dirname(process.execPath), '/usr/bin', '/bin'].join(':');
/**
 * A home with no ~/.bashrc: Debian's bash reads it even when not interactive if its stdin is a
 * socket, as Node's pipes are, and this machine's puts Go on PATH there.
 */
const bareEnv = () => ({ HOME: mkdtempSync(join(tmpdir(), 'orch-home-')), PATH: PATH_WITHOUT_GO });

function installWithoutGo(tool: string) {
  const toolsDir = mkdtempSync(join(tmpdir(), 'orch-tools-nogo-'));
  return runCommand('bash', [join(REPO_ROOT, 'scripts/install-tools.sh'), '--only', tool], {
    env: { ...bareEnv(), ORCH_TOOLS_DIR: toolsDir },
  });
}

describe('install-tools.sh without Go', () => {
  beforeAll(async () => {
    const go = await runCommand('bash', ['-c', 'command -v go'], { env: bareEnv() });
    if (go.status === 0)
      throw new Error(`go is on ${PATH_WITHOUT_GO} (${go.stdout.trim()}): this test needs a PATH without it`);
  });

  it('tries the Temporal SDK download of the CLI, and offline stops saying why and what to do', async () => {
    const run = await installWithoutGo('temporal');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^install-tools: temporal CLI v\d+\.\d+\.\d+: Go >= 1\.25 not found to build it, and the Temporal SDK could not download it either \(.*failed to download ephemeral server executable.*\)\. Install Go >= 1\.25, or connect to the internet, or set TEMPORAL_CLI_PATH to an existing temporal executable\.\n$/,
    );
  });

  it.each([
    [
      'temporal-server',
      'temporal-server v1.29.1: WARNING: not installed, it needs Go >= 1.25 to build; npm start --engine cluster and test/cluster will say so\n',
    ],
    [
      'kustomize',
      'kustomize v5.8.2: WARNING: not installed, it needs Go >= 1.26.7 to build; test/deploy will say so\n',
    ],
    [
      'otelcol',
      expect.stringMatching(
        /^otelcol v[\d.]+ \(tools\/otelcol\): WARNING: not installed, it needs Go >= 1\.26 to build; test\/tracing will say so\n$/,
      ),
    ],
  ])(
    'skips %s, which only some tests or the cluster engine need, with a warning, and succeeds',
    async (tool, warning) => {
      const run = await installWithoutGo(tool);
      expect(run.status).toBe(0);
      expect(run.stderr).toEqual(warning);
    },
  );
});
