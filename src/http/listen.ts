// Opening the server's port: one listening socket, or (on Linux) a group of them sharing the port.
//
// libuv accepts one connection per listening socket per event-loop iteration (libuv PR #3696,
// "unix: don't accept() connections in a loop", in every Node we support). A server busy writing
// thousands of paced streams runs a few dozen iterations a second, so with one listening socket
// new connections waited in the kernel's accept queue for seconds (issue 17, S3: 2,000 streams
// opened over 2 s sat 500-900 deep in the queue, drained at ~30 a second; the server itself
// answered each within 2 ms of accepting it). Linux's SO_REUSEPORT (Node's `reusePort`) lets
// several sockets listen on one port, the kernel spreading new connections over them, and each
// one that has a connection waiting is accepted from in the same iteration.
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';

/**
 * The accept queue, asked of listen(2), which caps it at net.core.somaxconn (4096 by default since
 * Linux 5.4). Node's default is 511: clients arriving faster than the event loop accepts them (a
 * load test opening thousands of streams) overflow it, the kernel drops their SYNs, and they retry
 * after 1 s, 3 s, 7 s...
 */
export const LISTEN_BACKLOG = 65_535;

/** Listening sockets on the port (Linux): up to this many connections accepted per iteration. */
export const ACCEPT_SOCKETS = 16;

export interface Listening {
  port: number;
  /** How many sockets listen on the port. */
  sockets: number;
  /** Stops accepting on every socket; resolves when the connections they accepted have closed. */
  close(): Promise<void>;
}

/**
 * Listens on `port` (0: any free one) with `server`, and on Linux with ACCEPT_SOCKETS - 1 more
 * sockets whose connections go to `server` as if it had accepted them. A port another process
 * holds fails as it always did (EADDRINUSE), even when that process is another mockllm: the port is
 * first taken the ordinary way, without SO_REUSEPORT, and only then shared by our own sockets.
 */
export async function listenOnPort(server: Server, port: number, host: string, sockets = process.platform === 'linux' ? ACCEPT_SOCKETS : 1): Promise<Listening> {
  if (sockets <= 1) {
    await listen(server, { port, host, backlog: LISTEN_BACKLOG });
    return { port: (server.address() as AddressInfo).port, sockets: 1, close: () => closeServer(server) };
  }
  const probe = createNetServer();
  await listen(probe, { port, host });
  const bound = (probe.address() as AddressInfo).port;
  await closeServer(probe);
  try {
    await listen(server, { port: bound, host, backlog: LISTEN_BACKLOG, reusePort: true });
  } catch (error) {
    // SO_REUSEPORT refused (a kernel or sandbox without it): one socket, as before.
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw error;
    return listenOnPort(server, bound, host, 1);
  }
  const extras: NetServer[] = [];
  for (let i = 1; i < sockets; i++) {
    const extra = createNetServer((socket: Socket) => server.emit('connection', socket));
    try {
      await listen(extra, { port: bound, host, backlog: LISTEN_BACKLOG, reusePort: true });
      extras.push(extra);
    } catch {
      break; // fewer sockets, still serving
    }
  }
  return {
    port: bound,
    sockets: 1 + extras.length,
    // Each socket's close resolves once the connections it accepted are gone.
    close: () => Promise.all([closeServer(server), ...extras.map(closeServer)]).then(() => {}),
  };
}

function listen(server: NetServer, options: { port: number; host: string; backlog?: number; reusePort?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
