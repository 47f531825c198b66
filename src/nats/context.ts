/**
 * A `nats` CLI context by name (NATS_CONTEXT), as `nats context save` writes it: a JSON file in
 * $XDG_CONFIG_HOME/nats/context/<name>.json (~/.config when XDG_CONFIG_HOME is unset). Its
 * connection fields become NATS settings wherever the environment sets none of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A context's field → the setting it stands for, and the nats CLI's other name for that setting. */
const CONTEXT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  url: ['NATS_URL'],
  user: ['NATS_USER'],
  password: ['NATS_PASSWORD'],
  creds: ['NATS_CREDS_FILE', 'NATS_CREDS'],
  nkey: ['NATS_NKEY'],
  cert: ['NATS_TLS_CERT_FILE', 'NATS_CERT'],
  key: ['NATS_TLS_KEY_FILE', 'NATS_KEY'],
  ca: ['NATS_TLS_CA_FILE', 'NATS_CA'],
};

/** Fields a context may hold that would change how to connect, and that this runtime does not support. */
const UNSUPPORTED_FIELDS = [
  'token',
  'nsc',
  'jetstream_domain',
  'jetstream_api_prefix',
  'inbox_prefix',
  'socks_proxy',
  'user_jwt',
  'tls_first',
  'windows_cert_store',
];

export class NatsContextError extends Error {
  override readonly name = 'NatsContextError';
}

/** The path of context `name` for this environment. */
function natsContextPath(name: string, env: NodeJS.ProcessEnv): string {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME ?? '', '.config');
  return join(configHome, 'nats', 'context', `${name}.json`);
}

/**
 * `env` with the settings of the context NATS_CONTEXT names filled in where `env` has none; `env` itself when it names
 * none.
 */
export function withNatsContext(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const name = env.NATS_CONTEXT;
  if (!name) return env;
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.'))
    throw new NatsContextError(`NATS_CONTEXT: "${name}" is not a context name (letters, digits, ., _ and -)`);
  const path = natsContextPath(name, env);
  let context: Record<string, unknown>;
  try {
    context = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NatsContextError(
      code === 'ENOENT'
        ? `NATS_CONTEXT: no context "${name}" at ${path} (\`nats context ls\` lists the contexts)`
        : `NATS_CONTEXT: cannot read ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (typeof context !== 'object' || context === null || Array.isArray(context))
    throw new NatsContextError(`NATS_CONTEXT: ${path} holds no JSON object`);
  const unsupported = UNSUPPORTED_FIELDS.filter(
    (field) => context[field] !== undefined && context[field] !== '' && context[field] !== false,
  );
  if (unsupported.length > 0)
    throw new NatsContextError(
      `NATS_CONTEXT: ${path} sets ${unsupported.join(', ')}, which the orchestrator does not support; use a context without them, or the NATS_* settings`,
    );
  const filled = { ...env };
  for (const [field, names] of Object.entries(CONTEXT_FIELDS)) {
    const value = context[field];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string') throw new NatsContextError(`NATS_CONTEXT: ${path}: "${field}" must be a string`);
    if (names.some((n) => env[n] !== undefined)) continue;
    filled[names[0]!] = value;
  }
  return filled;
}
