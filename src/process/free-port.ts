import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Where the search starts; below it are the well-known and commonly configured ports. */
const LOWEST_PORT = 15_000;
const ATTEMPTS = 64;

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server this process starts next.
 *
 * It is drawn from below the kernel's ephemeral range: a port the kernel hands out for `listen(0)`
 * is one it also hands out to outgoing connections, so between this check and the server's own
 * bind a client socket (a gRPC or NATS connection of any process) could take it, and the server
 * would fail with "address already in use". Random draws keep two callers apart.
 */
export async function getFreePort(): Promise<number> {
  const highest = ephemeralRangeStart() - 1;
  if (highest > LOWEST_PORT) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const port = LOWEST_PORT + Math.floor(Math.random() * (highest - LOWEST_PORT + 1));
      if (await isFree(port)) return port;
    }
  }
  return kernelAssignedPort();
}

/** The first port of the kernel's ephemeral range (Linux); 32768, its usual value, elsewhere. */
function ephemeralRangeStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function kernelAssignedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
