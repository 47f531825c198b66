/**
 * A small real TCP proxy. The chaos tests put it between one process and a server (the bridge and
 * nats-server, the worker and nats-server, the bridge and Temporal, two NATS nodes) to cut the
 * network there. With several targets it is the cluster engine's load balancer in front of the
 * Temporal frontends, as a Kubernetes Service is: each connection goes to the next target in turn,
 * or to the one after when that one refuses it (a node that is down).
 * A cut destroys every connection through it and closes its listening socket, so new connections
 * are refused (ECONNREFUSED) until `heal()` listens again on the same port. `muteReplies()` is
 * the subtler fault: what the client sends still arrives, what the server answers is dropped (a
 * publish is stored, its acknowledgement is lost).
 */
import net from 'node:net';

export interface TcpProxyStats {
  /** Client connections accepted since the proxy started. */
  accepted: number;
  /** Connections open right now. */
  open: number;
  /** Connections destroyed by cuts. */
  dropped: number;
  cuts: number;
  /** Chunks from the server dropped while replies were muted. */
  repliesDropped: number;
}

export interface ProxyTarget {
  host: string;
  port: number;
}

export class TcpProxy {
  private server: net.Server | undefined;
  private nextTarget = 0;
  /** Open connections: the client's socket and the one to the target. */
  private readonly connections = new Set<[net.Socket, net.Socket]>();
  private readonly counters = { accepted: 0, dropped: 0, cuts: 0, repliesDropped: 0 };
  private repliesMuted = false;

  private constructor(
    readonly targets: readonly ProxyTarget[],
    private listenPort: number,
  ) {}

  /**
   * Listens on `port` (a free one of the system's choosing by default) and forwards to the target:
   * a port on 127.0.0.1, or several targets to balance connections over.
   */
  static async start(target: number | readonly ProxyTarget[], options: { port?: number } = {}): Promise<TcpProxy> {
    const targets = typeof target === 'number' ? [{ host: '127.0.0.1', port: target }] : target;
    if (targets.length === 0) throw new Error('a TCP proxy needs at least one target');
    const proxy = new TcpProxy(targets, options.port ?? 0);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.listenPort;
  }

  /** host:port, as Temporal's TEMPORAL_ADDRESS wants it. */
  get address(): string {
    return `127.0.0.1:${this.listenPort}`;
  }

  /** nats://host:port, as NATS_URL wants it. */
  get natsUrl(): string {
    return `nats://${this.address}`;
  }

  get isCut(): boolean {
    return this.server === undefined;
  }

  stats(): TcpProxyStats {
    return { ...this.counters, open: this.connections.size };
  }

  /** Drops every connection and refuses new ones until `heal()`. */
  async cut(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.counters.cuts++;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const [client, upstream] of this.connections) {
      client.destroy();
      upstream.destroy();
      this.counters.dropped++;
    }
    this.connections.clear();
    await closed;
  }

  /** From now on, bytes from the server are dropped; bytes to it still go through. */
  muteReplies(): void {
    this.repliesMuted = true;
  }

  /** Accepts connections again, on the same port, and passes replies again. */
  async heal(): Promise<void> {
    this.repliesMuted = false;
    if (this.server) return;
    await this.listen();
  }

  /** Cuts the network here for `ms`, then heals it. */
  async cutFor(ms: number): Promise<void> {
    await this.cut();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await this.heal();
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private async listen(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    // After a cut the port may still be held for a moment by connections closing down: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: '127.0.0.1', port: this.listenPort }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    this.listenPort = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private accept(client: net.Socket): void {
    if (!this.server) {
      client.destroy();
      return;
    }
    this.counters.accepted++;
    client.setNoDelay(true);
    this.connectUpstream(client, this.nextTarget++ % this.targets.length, this.targets.length);
  }

  /** Connects to target `index`; when it refuses before any byte went through, tries the next one. */
  private connectUpstream(client: net.Socket, index: number, attemptsLeft: number): void {
    const target = this.targets[index]!;
    const upstream = net.connect({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    const connection: [net.Socket, net.Socket] = [client, upstream];
    this.connections.add(connection);
    let connected = false;
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.connections.delete(connection);
    };
    // What the client sends meanwhile waits in its socket's buffer.
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (connected || attemptsLeft <= 1 || client.destroyed || !this.server) return close();
      this.connections.delete(connection);
      client.off('error', close).off('close', close);
      upstream.destroy();
      this.connectUpstream(client, (index + 1) % this.targets.length, attemptsLeft - 1);
    });
    upstream.on('close', () => {
      if (connected) close();
    });
    client.on('error', close).on('close', close);
    upstream.on('data', (chunk: Buffer) => {
      if (this.repliesMuted) {
        this.counters.repliesDropped++;
        return;
      }
      // Backpressure by hand, as pipe() would: the reply path can be muted, so it is not a pipe.
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
  }
}
