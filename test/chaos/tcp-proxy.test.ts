/**
 * The chaos suite's TCP proxy: forwards both ways, a cut drops every connection and refuses new ones, heal listens
 * again.
 */
import net from 'node:net';
import { TcpProxy } from '../../src/devstack/tcp-proxy';

let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => echo.close(resolve));
});

function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function roundTrip(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (data) => resolve(data.toString('utf8')));
    socket.write(text);
  });
}

it('forwards, drops every connection and refuses new ones while cut, then forwards again on the same port', async () => {
  const proxy = await TcpProxy.start(echoPort);
  try {
    const first = await open(proxy.port);
    expect(await roundTrip(first, 'hello')).toBe('hello');
    const closed = new Promise((resolve) => first.once('close', resolve));

    await proxy.cut();
    await closed;
    expect(proxy.isCut).toBe(true);
    await expect(open(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const port = proxy.port;
    await proxy.heal();
    expect(proxy.port).toBe(port);
    const second = await open(proxy.port);
    expect(await roundTrip(second, 'again')).toBe('again');
    second.destroy();
    expect(proxy.stats()).toMatchObject({ accepted: 2, dropped: 1, cuts: 1 });
  } finally {
    await proxy.stop();
  }
});
