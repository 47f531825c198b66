/**
 * Secure servers for the security tests. A real nats-server with TLS and per-user permissions, for the security tests:
 * a throwaway CA and
 * short-lived certificates made with the openssl CLI at test time, and the production example
 * configuration (deploy/nats/nats-server.conf) itself, fed its passwords and file paths through
 * the environment as in production.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import {
  type ConnectionOptions,
  connect,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import { getFreePort, NatsServer } from '../../src/devstack/processes';
import { requireTool } from '../../src/devstack/tools';
import { REPO_ROOT } from './paths';

export const PRODUCTION_NATS_CONFIG = join(REPO_ROOT, 'deploy', 'nats', 'nats-server.conf');

/** The users of deploy/nats/nats-server.conf. */
export const NATS_USERS = ['momentum', 'risk', 'orchestrator-bridge', 'orchestrator-worker', 'admin'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** Environment variable of deploy/nats/nats-server.conf that holds a user's password. */
const PASSWORD_VARIABLES: Record<NatsUser, string> = {
  momentum: 'NATS_PASSWORD_MOMENTUM',
  risk: 'NATS_PASSWORD_RISK',
  'orchestrator-bridge': 'NATS_PASSWORD_BRIDGE',
  'orchestrator-worker': 'NATS_PASSWORD_WORKER',
  admin: 'NATS_PASSWORD_ADMIN',
};

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate signed by the CA (for mutual TLS). */
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCaCert: string;
}

const OPENSSL = '/usr/bin/openssl';

function openssl(args: string[], cwd: string): void {
  if (!existsSync(OPENSSL))
    throw new Error(
      `${OPENSSL} is missing: run \`bash scripts/install-tools.sh\` as root; it installs Debian's openssl package`,
    );
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A CA, a server certificate for 127.0.0.1 and localhost and a client certificate, valid for one
 * day, written to `dir` (a new temp dir by default). EC P-256 keys: fast to generate.
 */
export function generateTestPki(dir = mkdtempSync(join(tmpdir(), 'orch-pki-'))): TestPki {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string): void =>
    openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-days',
        '1',
        '-subj',
        `/CN=orchestrator test ${name}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
  ca('ca');
  ca('other-ca');
  const leaf = (name: string, cn: string, extensions: string): void => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  };
  leaf(
    'server',
    'localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  leaf('client', 'orchestrator', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    otherCaCert: join(dir, 'other-ca.pem'),
  };
}

export interface SecureNats {
  server: NatsServer;
  pki: TestPki;
  /** nats://127.0.0.1:<port> (the server requires TLS all the same). */
  url: string;
  passwords: Record<NatsUser, string>;
  /** Whether the server demands a client certificate. */
  mutualTls: boolean;
  /** Connection options for a user: TLS with the test CA (and the client certificate under mutual TLS). */
  optionsFor(user: NatsUser): ConnectionOptions;
  /** The orchestrator's settings (NATS_*) for a user. */
  envFor(user: NatsUser): Record<string, string>;
  /** An admin connection, for looking at the streams. */
  admin: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager };
  logFile: string;
  stop(): Promise<void>;
}

export interface SecureNatsOptions {
  /** Require client certificates (mutual TLS): `verify: true` in the tls block. */
  mutualTls?: boolean;
}

/** Starts nats-server on deploy/nats/nats-server.conf with fresh certificates and passwords. */
export async function startSecureNats(options: SecureNatsOptions = {}): Promise<SecureNats> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-secure-nats-'));
  const pki = generateTestPki(dir);
  const mutualTls = options.mutualTls === true;
  const storeDir = join(dir, 'jetstream');
  // The production file as it is, but for its JetStream store (which the -sd flag may not override)
  // and, for mutual TLS, its commented-out `verify: true`.
  const edit = (text: string, pattern: RegExp, replacement: string): string => {
    const edited = text.replace(pattern, replacement);
    if (edited === text) throw new Error(`${PRODUCTION_NATS_CONFIG} has no line matching ${pattern}`);
    return edited;
  };
  let config = edit(
    readFileSync(PRODUCTION_NATS_CONFIG, 'utf8'),
    /^(\s*)store_dir: .*$/m,
    `$1store_dir: ${JSON.stringify(storeDir)}`,
  );
  if (mutualTls) config = edit(config, /^(\s*)# verify: true$/m, '$1verify: true');
  const configFile = join(dir, 'nats-server.conf');
  writeFileSync(configFile, config);
  // Passwords start with a letter: the server parses environment values as configuration values.
  const passwords = Object.fromEntries(
    NATS_USERS.map((user) => [user, `pw-${randomBytes(12).toString('hex')}`]),
  ) as Record<NatsUser, string>;
  const port = await getFreePort();
  const monitorPort = await getFreePort();
  const logFile = join(dir, 'nats-server.log');
  const server = new NatsServer(port, monitorPort, {
    label: 'nats-server (TLS, users)',
    command: requireTool('nats-server'),
    // Flags override the file's listen address and monitoring port.
    args: ['-c', configFile, '-a', '127.0.0.1', '-p', String(port), '--http_port', String(monitorPort)],
    env: {
      NATS_TLS_CERT: pki.serverCert,
      NATS_TLS_KEY: pki.serverKey,
      NATS_TLS_CA: pki.caCert,
      ...Object.fromEntries(NATS_USERS.map((user) => [PASSWORD_VARIABLES[user], passwords[user]])),
    },
    logFile,
  });
  await server.start();
  const url = server.url;

  const optionsFor = (user: NatsUser): ConnectionOptions => ({
    servers: url,
    user,
    pass: passwords[user],
    tls: { caFile: pki.caCert, ...(mutualTls ? { certFile: pki.clientCert, keyFile: pki.clientKey } : {}) },
  });
  const envFor = (user: NatsUser): Record<string, string> => ({
    NATS_URL: url,
    NATS_USER: user,
    NATS_PASSWORD: passwords[user],
    NATS_TLS_CA_FILE: pki.caCert,
    ...(mutualTls ? { NATS_TLS_CERT_FILE: pki.clientCert, NATS_TLS_KEY_FILE: pki.clientKey } : {}),
  });
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...optionsFor('admin'),
      name: 'secure-nats-admin',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    server,
    pki,
    url,
    passwords,
    mutualTls,
    optionsFor,
    envFor,
    admin: { nc, js: nc.jetstream(), jsm: await nc.jetstreamManager() },
    logFile,
    async stop() {
      await nc.close().catch(() => undefined);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TlsProxy {
  /** host:port of the TLS side. */
  address: string;
  /** TLS connections accepted so far, with the protocol ALPN chose and whether a client certificate was verified. */
  accepted: Array<{ alpn: string | false; clientCertificate: boolean }>;
  stop(): Promise<void>;
}

/**
 * A TLS-terminating TCP proxy in front of a plain-text server (the Temporal dev server has no TLS
 * options): TLS with the test CA's server certificate on 127.0.0.1, plain bytes to `target`.
 * `requireClientCertificate` makes it a mutual-TLS endpoint that refuses clients without a
 * certificate signed by the test CA.
 */
export async function startTlsProxy(
  target: string,
  pki: TestPki,
  options: { requireClientCertificate?: boolean } = {},
): Promise<TlsProxy> {
  const [targetHost, targetPort] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<net.Socket>();
  const accepted: TlsProxy['accepted'] = [];
  const server = tls.createServer(
    {
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ALPNProtocols: ['h2'],
      ...(options.requireClientCertificate
        ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(pki.caCert) }
        : {}),
    },
    (client) => {
      accepted.push({
        alpn: client.alpnProtocol ?? false,
        clientCertificate: client.authorized && Object.keys(client.getPeerCertificate()).length > 0,
      });
      const upstream = net.connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    accepted,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
