/**
 * The production image holds the processes, the CLI and the workflows: not the bench, not the local
 * stack. The Dockerfile compiles with `npm run build:production`; this runs that compile into a
 * scratch folder and reads what it wrote.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../support/paths';

const TSC = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

describe('the production build', () => {
  let outDir: string;
  let files: string[];

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'orch-production-build-'));
    const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const [command, ...args] = packageJson.scripts['build:production'].split(' ');
    expect(command).toBe('tsc');
    const run = spawnSync(TSC, [...args, '--outDir', outDir], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    files = filesUnder(outDir).filter((file) => file.endsWith('.js'));
  }, 120_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('is what the Dockerfile compiles', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^RUN npm run build:production && npm run bundle$/m);
    expect(dockerfile).toMatch(/^COPY tsconfig\.json tsconfig\.build\.json tsconfig\.production\.json \.\/$/m);
  });

  it('holds the three processes, the CLI and the workflow code', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'src/workers/worker.js',
        'src/workers/bridge.js',
        'src/workers/codec-server.js',
        'src/client/cli.js',
        'src/workflows/index.js',
      ]),
    );
  });

  it('holds no bench, local-stack or test code', () => {
    const topLevel = [...new Set(files.map((file) => file.split('/').slice(0, 2).join('/')))].sort();
    expect(topLevel).toEqual([
      'src/activities',
      'src/agent-health',
      'src/bridge',
      'src/client',
      'src/codec',
      'src/config.js',
      'src/contract',
      'src/nats',
      'src/observability',
      'src/operations',
      'src/process',
      'src/shared',
      'src/temporal',
      'src/version.js',
      'src/workers',
      'src/workflows',
    ]);
  });
});
