/**
 * A TCP proxy between the workers and a vendor emulator, for the network fault of `npm run chaos`
 * (toxiproxy's role; its Go server is not available here). `cut()` destroys every open connection
 * and closes the listening port, so new connections are refused, as when a route to the vendor
 * goes away; `restore()` listens again on the same port.
 */
import net from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: what the workers are pointed at instead of the vendor. */
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** Connections accepted and connections destroyed by a cut, since the start. */
  counts(): { connections: number; severed: number };
  stop(): Promise<void>;
}

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => (server.off('error', reject), resolve()));
  });
}

const close = (server: net.Server) =>
  new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

/** `target`: the emulator's `http://host:port` URL. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port: targetPort } = new URL(target);
  /** Open connections, each as its two sockets. */
  const open = new Set<[net.Socket, net.Socket]>();
  const counts = { connections: 0, severed: 0 };
  const server = net.createServer((inbound) => {
    counts.connections += 1;
    const outbound = net.connect(Number(targetPort), hostname);
    const pair: [net.Socket, net.Socket] = [inbound, outbound];
    open.add(pair);
    for (const socket of pair) {
      socket.once('close', () => open.delete(pair));
      // A reset on one side is passed on as a reset on the other.
      socket.once('error', () => (inbound.destroy(), outbound.destroy()));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await listen(server, 0);
  const { port } = server.address() as net.AddressInfo;
  const severAll = () => {
    counts.severed += open.size;
    for (const pair of open) for (const socket of pair) socket.destroy();
    open.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    async cut() {
      const closed = close(server);
      severAll();
      await closed;
    },
    async restore() {
      if (!server.listening) await listen(server, port);
    },
    counts: () => ({ ...counts }),
    async stop() {
      const closed = close(server);
      severAll();
      await closed;
    },
  };
}
