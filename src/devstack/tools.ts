import { existsSync } from 'node:fs';
import path from 'node:path';

export type ToolName =
  | 'nats-server'
  | 'temporal'
  | 'temporal-test-server'
  | 'temporal-server'
  | 'temporal-sql-tool'
  | 'temporal-ui-server'
  | 'promtool'
  | 'kustomize'
  | 'otelcol'
  | 'node-lts';

/** The tools another build may stand in for; the cluster engine's come with the schema and config they match. */
const ENV_VARS: Partial<Record<ToolName, string>> = {
  'nats-server': 'NATS_SERVER_PATH',
  temporal: 'TEMPORAL_CLI_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
};

export class ToolMissingError extends Error {
  override readonly name = 'ToolMissingError';

  constructor(readonly tool: ToolName) {
    const envVar = ENV_VARS[tool];
    super(
      `${tool} not found: run \`npm run tools\` to install it into ${toolsDir()}/bin${envVar ? `, or set ${envVar} to an existing executable` : ''}`,
    );
  }
}

/**
 * The repository root: the nearest folder above this file with a package-lock.json (dist/ has a
 * copy of package.json, but never the lockfile).
 */
export function repoRoot(): string {
  let dir = path.resolve(__dirname);
  while (!existsSync(path.join(dir, 'package-lock.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package-lock.json above ${__dirname}: cannot find the repository root`);
    dir = parent;
  }
  return dir;
}

export function toolsDir(): string {
  return path.resolve(process.env.ORCH_TOOLS_DIR || path.join(repoRoot(), '.tools'));
}

/** Same order as scripts/install-tools.sh: the env var wins, else the tool installed in .tools/bin. */
export function resolveTool(name: ToolName): string | undefined {
  const envVar = ENV_VARS[name];
  const fromEnv = envVar && process.env[envVar];
  if (fromEnv) return fromEnv;
  const installed = path.join(toolsDir(), 'bin', name);
  return existsSync(installed) ? installed : undefined;
}

export function requireTool(name: ToolName): string {
  const found = resolveTool(name);
  if (!found) throw new ToolMissingError(name);
  return found;
}
