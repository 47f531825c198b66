/**
 * The HTTP endpoint of a long-running process: /livez (the process runs), /readyz (it can do its
 * work: every check passes) and /metrics (Prometheus).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReadinessChecks = Record<string, () => boolean>;

export interface HealthServerOptions {
  port: number;
  readiness: ReadinessChecks;
  /** Prometheus text exposition. */
  metrics: () => Promise<string>;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') return void response.writeHead(405).end();
    if (path === '/livez') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const checks = Object.fromEntries(Object.entries(options.readiness).map(([name, check]) => [name, check()]));
      const ready = Object.values(checks).every(Boolean);
      return void response
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify({ ready, checks })}\n`);
    }
    if (path === '/metrics') {
      options.metrics().then(
        (text) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
