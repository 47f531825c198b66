/**
 * Temporal's remote codec protocol over HTTP, for the Temporal UI and `temporal --codec-endpoint`:
 * POST …/encode and POST …/decode take and return `{"payloads": [...]}`, each payload in proto JSON
 * (metadata values and data in base64). Only the last path segment counts, so the endpoints can be
 * mounted under any prefix. With a token, a request must carry `Authorization: Bearer <token>`;
 * browsers are let in only from the configured origins (CORS). No payload content is ever logged.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';

/** The largest request body accepted: the UI decodes a whole history page at once. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface CodecServerOptions {
  host: string;
  port: number;
  /** The codecs, in the data converter's order (encode in order, decode in reverse). */
  codecs: readonly PayloadCodec[];
  /** The namespace the keys belong to: a request whose X-Namespace names another is refused. */
  namespace: string;
  /** Required as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** Browser origins allowed (CORS), e.g. the Temporal UI's `http://localhost:8233`; `*` allows any. */
  corsOrigins: readonly string[];
  logger: Logger;
}

export interface CodecServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A payload in proto JSON: bytes as base64. */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

class BadRequest extends Error {}

function fromBase64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value))
    throw new BadRequest(`${what} is not a base64 string`);
  return Buffer.from(value, 'base64');
}

/** Proto JSON → Payload; throws BadRequest naming the bad field. */
export function payloadFromJson(json: unknown, index: number): Payload {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new BadRequest(`payloads[${index}] is not an object`);
  const { metadata, data } = json as JsonPayload;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
    throw new BadRequest(`payloads[${index}].metadata is not an object`);
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [
        key,
        fromBase64(value, `payloads[${index}].metadata.${key}`),
      ]),
    ),
    data: data === undefined || data === null ? new Uint8Array() : fromBase64(data, `payloads[${index}].data`),
  };
}

/** Payload → proto JSON. */
export function payloadToJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { codecs, logger } = options;
  const anyOrigin = options.corsOrigins.includes('*');
  const allowedOrigin = (origin: string | undefined): string | undefined =>
    origin !== undefined && (anyOrigin || options.corsOrigins.includes(origin)) ? origin : undefined;

  const run = async (operation: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> => {
    let result = payloads;
    for (const codec of operation === 'encode' ? codecs : [...codecs].reverse())
      result = await (operation === 'encode' ? codec.encode(result) : codec.decode(result));
    return result;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const origin = allowedOrigin(request.headers.origin);
    const cors: Record<string, string> = origin
      ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
      : { vary: 'Origin' };
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
      const text = body === undefined ? '' : `${JSON.stringify(body)}\n`;
      response
        .writeHead(status, {
          ...cors,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        })
        .end(text);
    };
    const path = new URL(request.url ?? '/', 'http://codec').pathname;
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;

    if (request.method === 'GET' && path === '/livez')
      return void response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (!operation) return reply(404, { error: 'not found: POST …/encode or …/decode' });
    if (request.method === 'OPTIONS') {
      // A CORS preflight carries no credentials: answer it for allowed origins only.
      if (!origin) {
        logger.warn(
          { origin: request.headers.origin ?? null, path },
          'codec server: CORS preflight from an origin not in ORCH_CODEC_CORS_ORIGINS',
        );
        return reply(403);
      }
      return reply(204, undefined, {
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'Content-Type, X-Namespace, Authorization',
        'access-control-max-age': '600',
      });
    }
    if (request.method !== 'POST')
      return reply(405, { error: 'method not allowed: use POST' }, { allow: 'POST, OPTIONS' });
    if (options.token !== undefined) {
      const [scheme, credentials] = (request.headers.authorization ?? '').split(' ', 2);
      if (scheme?.toLowerCase() !== 'bearer' || !credentials || !sameSecret(credentials, options.token)) {
        logger.warn(
          { path, remote: request.socket.remoteAddress, origin: request.headers.origin ?? null },
          'codec server: refused a request without the bearer token',
        );
        return reply(
          401,
          { error: 'unauthorized: send Authorization: Bearer <ORCH_CODEC_SERVER_TOKEN>' },
          { 'www-authenticate': 'Bearer realm="codec"' },
        );
      }
    }
    const namespace = request.headers['x-namespace'];
    if (typeof namespace === 'string' && namespace !== '' && namespace !== options.namespace) {
      return reply(403, {
        error: `this codec server holds the keys of namespace ${options.namespace}, not ${namespace}`,
      });
    }
    try {
      let body: unknown;
      try {
        body = JSON.parse((await readBody(request)).toString('utf8'));
      } catch (error) {
        throw error instanceof BadRequest ? error : new BadRequest(`the body is not JSON: ${(error as Error).message}`);
      }
      const list = (body as { payloads?: unknown } | null)?.payloads;
      if (!Array.isArray(list)) throw new BadRequest('expected a JSON object {"payloads": [...]}');
      const payloads = await run(operation, list.map(payloadFromJson));
      logger.debug({ operation, payloads: payloads.length, namespace: namespace ?? null }, 'codec server request');
      return reply(200, { payloads: payloads.map(payloadToJson) });
    } catch (error) {
      // Bad input, or a payload the codec refuses (unknown key id, altered bytes): the protocol's 400.
      logger.warn({ operation, error: (error as Error).message }, `codec server: ${operation} failed`);
      return reply(400, { error: (error as Error).message });
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'codec server: request failed');
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
