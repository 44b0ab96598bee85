// The local upstream broker of `menwei demo` (INTERFACES.md: "a local upstream broker,
// embedded when nothing else is configured"): aedes on a loopback port, so the demo runs
// without Mosquitto installed. The uplink can be cut and restored on the same port: the
// listener closes and every connection is dropped, but the aedes instance lives on, so
// the platform's persistent session and the QoS 1 messages queued for it survive, as on
// a real platform broker whose network link went down.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export class EmbeddedUpstream {
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  constructor(private readonly host = '127.0.0.1') {}

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `mqtt://${this.host}:${this.boundPort}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Starts aedes and listens on `port` (0: a free one); resolves with the URL. */
  async start(port = 0): Promise<string> {
    // The gateway's clientId is its gatewayId, up to 64 characters (PROTOCOL.md §2).
    this.broker = await Aedes.createBroker({ maxClientsIdLength: 64 });
    this.boundPort = port;
    await this.restore();
    return this.url;
  }

  /** The uplink goes down: nothing listens, and every open connection is dropped at once. */
  async cut(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** The uplink comes back on the same port, with the same broker state behind it. */
  async restore(): Promise<void> {
    const broker = this.broker;
    if (!broker) throw new Error('embedded upstream is not started');
    if (this.server) return;
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.setNoDelay(true);
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    await this.cut();
    const broker = this.broker;
    this.broker = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
