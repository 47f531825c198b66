import { readFileSync } from 'node:fs';
import net from 'node:net';
import { getFreePort } from '../src/process/free-port';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('getFreePort', () => {
  it('gives ports below the kernel ephemeral range, which outgoing connections never take', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => getFreePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(15_000);
      expect(port).toBeLessThan(ephemeralStart);
    }
  });

  it('gives a port a server can bind at once', async () => {
    const server = await listen(await getFreePort());
    await new Promise((resolve) => server.close(resolve));
  });
});
