import { readFileSync } from 'node:fs';
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection, nkeyAuthenticator } from 'nats';
import { ConfigError, type NatsSettings, PEM_BLOCK } from '../config';
import type { Logger } from '../observability/logger';

type ConnectionSettings = Pick<
  NatsSettings,
  'servers' | 'credsFile' | 'nkeyFile' | 'user' | 'password' | 'tlsCaFile' | 'tlsCertFile' | 'tlsKeyFile'
>;

/** A file a setting names, read now so that a bad one is reported by its setting, not by the NATS client. */
function readSettingFile(setting: string, path: string, pem: boolean): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${setting}: cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (pem && !PEM_BLOCK.test(content.toString('latin1'))) {
    throw new ConfigError(`invalid configuration: ${setting}: ${path} is not a PEM file (no -----BEGIN ...----- line)`);
  }
  return content;
}

/**
 * Connection options from the settings: servers, credentials, an NKey seed or user/password, and TLS. Every
 * process and command that talks to NATS (worker, bridge, `orch`, bench) connects with these.
 * A file that cannot be read, or a certificate or key that is not PEM, throws a ConfigError
 * naming its setting (the processes exit 2).
 *
 * TLS is required (the client refuses a server that does not offer it) as soon as a CA or a
 * client certificate is set, or a server URL says `tls://`. Without a CA file the system's trusted
 * CAs verify the server.
 */
export function natsConnectionOptions(settings: ConnectionSettings): ConnectionOptions {
  const files: Array<[string, string | undefined]> = [
    ['NATS_TLS_CA_FILE', settings.tlsCaFile],
    ['NATS_TLS_CERT_FILE', settings.tlsCertFile],
    ['NATS_TLS_KEY_FILE', settings.tlsKeyFile],
  ];
  for (const [setting, path] of files) if (path !== undefined) readSettingFile(setting, path, true);
  const tlsUrl = settings.servers.some((server) => server.toLowerCase().startsWith('tls://'));
  const tls =
    settings.tlsCaFile || settings.tlsCertFile || tlsUrl
      ? {
          ...(settings.tlsCaFile ? { caFile: settings.tlsCaFile } : {}),
          ...(settings.tlsCertFile && settings.tlsKeyFile
            ? { certFile: settings.tlsCertFile, keyFile: settings.tlsKeyFile }
            : {}),
        }
      : undefined;
  return {
    servers: settings.servers,
    ...(settings.credsFile
      ? { authenticator: credsAuthenticator(readSettingFile('NATS_CREDS_FILE', settings.credsFile, false)) }
      : {}),
    ...(settings.nkeyFile ? { authenticator: nkeyAuthenticator(nkeySeed(settings.nkeyFile)) } : {}),
    ...(settings.user ? { user: settings.user, pass: settings.password } : {}),
    ...(tls ? { tls } : {}),
  };
}

/**
 * The seed of an NKey file (as `nk -gen user` writes it: one line, `SU...`), checked so a bad file is named by its
 * setting.
 */
function nkeySeed(path: string): Uint8Array {
  const seed = readSettingFile('NATS_NKEY', path, false).toString('utf8').trim();
  if (!/^S[A-Z][A-Z2-7]{56}$/.test(seed))
    throw new ConfigError(
      `invalid configuration: NATS_NKEY: ${path} holds no NKey seed (one line starting with S, e.g. SU... for a user)`,
    );
  return new TextEncoder().encode(seed);
}

/**
 * Connects to NATS and keeps reconnecting for as long as the process lives: an orchestrator process
 * outlives any NATS restart. Connection changes are logged.
 */
export async function connectNats(settings: NatsSettings, name: string, logger: Logger): Promise<NatsConnection> {
  const nc = await connect({
    ...natsConnectionOptions(settings),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    waitOnFirstConnect: true,
  });
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const status of nc.status()) {
      const quiet = status.type === 'pingTimer' || status.type === 'reconnecting';
      if (!quiet) logger.info({ nats_event: status.type, data: status.data }, `NATS ${status.type}`);
    }
  })();
  return nc;
}
