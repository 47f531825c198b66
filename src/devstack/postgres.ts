/**
 * PostgreSQL for the cluster engine: Debian's server binaries on a project-local data folder and a
 * loopback port. PostgreSQL refuses to run as root, so under root the server runs as the
 * unprivileged `postgres` user, which then owns the data folder.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { acceptsConnections, getFreePort, ManagedProcess, type ProcessSpec } from './processes';

const run = promisify(execFile);

/** The major version the install script pins (scripts/install-tools.sh, POSTGRES_MAJOR). */
export const POSTGRES_MAJOR = 15;
const BIN_DIR = process.env.ORCH_POSTGRES_BIN_DIR || `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
const UNPRIVILEGED_USER = 'postgres';

export interface PostgresOptions {
  /** The cluster's data folder; created with initdb when it holds none. */
  dataDir: string;
  port?: number;
  /** The superuser the Temporal server connects as, with password authentication on loopback. */
  user: string;
  password: string;
  logFile?: string;
}

export class PostgresServer extends ManagedProcess {
  readonly host = '127.0.0.1';

  constructor(
    readonly port: number,
    spec: ProcessSpec,
  ) {
    super(spec);
  }

  protected override async isReady(): Promise<boolean> {
    if (!(await acceptsConnections(this.port))) return false;
    return run(join(BIN_DIR, 'pg_isready'), ['-h', this.host, '-p', String(this.port), '-q'], { timeout: 5_000 }).then(
      () => true,
      () => false,
    );
  }

  /** Fast shutdown (SIGINT): open transactions are rolled back, the server checkpoints and exits. */
  stopFast(): Promise<void> {
    return this.signalAndWait('SIGINT');
  }

  /** Immediate shutdown (SIGQUIT): no checkpoint, crash recovery from the WAL at the next start. */
  stopImmediate(): Promise<void> {
    return this.signalAndWait('SIGQUIT');
  }
}

/** The uid and gid to run as: none when not root; `postgres`'s under root. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map((flag) => run('id', [flag, UNPRIVILEGED_USER]).then((r) => Number(r.stdout.trim()))),
    );
    return { uid: uid!, gid: gid! };
  } catch {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no '${UNPRIVILEGED_USER}' user: install Debian's postgresql-${POSTGRES_MAJOR} (scripts/install-tools.sh does) or run as another user`,
    );
  }
}

/** Hands the folder to the server's user, and lets it through every folder above (a mkdtemp folder is 0700). */
function giveTo(dir: string, user: { uid: number; gid: number }): void {
  const chownTree = (path: string): void => {
    chownSync(path, user.uid, user.gid);
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry));
  };
  chownTree(dir);
  for (let parent = dirname(dir); parent !== dirname(parent); parent = dirname(parent)) {
    const mode = statSync(parent).mode;
    if ((mode & 0o001) === 0) chmodSync(parent, mode | 0o001);
  }
}

/** Starts PostgreSQL on `dataDir` (initialising it on first use); ready once it accepts connections. */
export async function startPostgres(opts: PostgresOptions): Promise<PostgresServer> {
  const postgres = join(BIN_DIR, 'postgres');
  if (!existsSync(postgres))
    throw new Error(
      `${postgres} not found: run \`npm run tools\` (it installs Debian's postgresql-${POSTGRES_MAJOR}) or set ORCH_POSTGRES_BIN_DIR`,
    );
  const user = await serverUser();
  mkdirSync(opts.dataDir, { recursive: true });
  if (user) giveTo(opts.dataDir, user);
  if (!existsSync(join(opts.dataDir, 'PG_VERSION'))) {
    const pwFile = join(opts.dataDir, '..', `.${opts.user}-password`);
    writeFileSync(pwFile, `${opts.password}\n`, { mode: 0o600 });
    if (user) chownSync(pwFile, user.uid, user.gid);
    await run(
      join(BIN_DIR, 'initdb'),
      [
        '-D',
        opts.dataDir,
        '-U',
        opts.user,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...user },
    )
      .catch((error: { stderr?: string; message: string }) => {
        throw new Error(`initdb failed: ${error.stderr || error.message}`);
      })
      .finally(() => unlinkSync(pwFile));
  }
  const port = opts.port ?? (await getFreePort());
  const args = [
    '-D',
    opts.dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    // The socket next to the data, not in /var/run/postgresql, which may not exist or be shared.
    '-c',
    `unix_socket_directories=${opts.dataDir}`,
    // Two Temporal nodes, four services each, with persistence and visibility pools.
    '-c',
    'max_connections=400',
  ];
  // stop() is pg_ctl's default, a fast shutdown: SIGTERM's smart one would wait for every client to leave.
  const server = new PostgresServer(port, {
    label: 'postgresql',
    command: postgres,
    args,
    logFile: opts.logFile,
    stopSignal: 'SIGINT',
    ...(user ? { user } : {}),
  });
  await server.start();
  return server;
}
