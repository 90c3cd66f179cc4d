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
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
 * sockets whose connections go to `server` as if it had accepted them. A port someone else holds
 * fails as it always did (EADDRINUSE), even when that someone is another mockllm: the port is first
 * taken the ordinary way, without SO_REUSEPORT; and since two servers started at the same moment
 * could both pass that step (one between the other's probe and its group), the group then checks
 * that every socket listening on the port is its own, and otherwise steps back and tries again.
 */
export async function listenOnPort(server: Server, port: number, host: string, sockets = process.platform === 'linux' ? ACCEPT_SOCKETS : 1): Promise<Listening> {
  if (sockets > 1) {
    for (let attempt = 1; ; attempt++) {
      const group = await listenAsGroup(server, port, host, sockets);
      if (group === 'no-reuseport') break;
      if (group === 'port-lost') continue; // port 0: the free port found was taken before the group bound it
      const seen = socketsOn(group.port);
      if (seen === undefined) {
        // No /proc to tell our sockets from others' (a sandbox): one socket, the safe way.
        await group.close();
        break;
      }
      // Another group of this very process (two servers of a test suite) counts as someone else.
      if (!groupPorts.has(group.port) && seen.listening.every((inode) => seen.ours.has(inode))) {
        groupPorts.add(group.port);
        const close = group.close;
        return { ...group, close: () => close().finally(() => groupPorts.delete(group.port)) };
      }
      await group.close();
      if (port !== 0 && attempt >= 6) throw addressInUse(host, port);
      // Both servers of a simultaneous start see each other and step back: a random pause lets one go first.
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 60));
    }
  }
  await listen(server, { port, host, backlog: LISTEN_BACKLOG });
  return { port: (server.address() as AddressInfo).port, sockets: 1, close: () => closeServer(server) };
}

async function listenAsGroup(server: Server, port: number, host: string, sockets: number): Promise<Listening | 'no-reuseport' | 'port-lost'> {
  const probe = createNetServer();
  await listen(probe, { port, host });
  const bound = (probe.address() as AddressInfo).port;
  await closeServer(probe);
  try {
    await listen(server, { port: bound, host, backlog: LISTEN_BACKLOG, reusePort: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return 'no-reuseport'; // a kernel or sandbox without SO_REUSEPORT
    if (port === 0) return 'port-lost';
    throw error;
  }
  // The server's own socket options for the connections the extra sockets accept: node:http's are
  // noDelay and allowHalfOpen (src/http/h2c.ts relies on the latter), net's defaults are neither.
  const options = server as unknown as { allowHalfOpen: boolean; noDelay: boolean; keepAlive: boolean; keepAliveInitialDelay: number; highWaterMark?: number };
  const socketOptions = {
    allowHalfOpen: options.allowHalfOpen,
    noDelay: options.noDelay,
    keepAlive: options.keepAlive,
    keepAliveInitialDelay: options.keepAliveInitialDelay,
    ...(options.highWaterMark !== undefined && { highWaterMark: options.highWaterMark }),
  };
  const extras: NetServer[] = [];
  for (let i = 1; i < sockets; i++) {
    const extra = createNetServer(socketOptions, (socket: Socket) => server.emit('connection', socket));
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

const PROC_TCP = ['/proc/net/tcp', '/proc/net/tcp6'];
/** Ports held by a group of this process. */
const groupPorts = new Set<number>();

/**
 * The inodes of the sockets listening on `port`, any address, in this network namespace (proc(5),
 * /proc/net/tcp), and of this process's own sockets; undefined when /proc cannot say.
 */
function socketsOn(port: number): { listening: string[]; ours: Set<string> } | undefined {
  const listening: string[] = [];
  for (const file of PROC_TCP) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      if (file === PROC_TCP[0]) return undefined;
      continue; // no IPv6
    }
    for (const line of table.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      // sl, local_address (hex ip:port), rem_address, st (0A: LISTEN), tx:rx, tr:when, retrnsmt, uid, timeout, inode
      if (columns.length < 10 || columns[3] !== '0A') continue;
      if (Number.parseInt(columns[1]!.split(':')[1]!, 16) === port) listening.push(columns[9]!);
    }
  }
  // This process's sockets: the `socket:[inode]` links in /proc/self/fd.
  const ours = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('socket:[')) ours.add(target.slice(8, -1));
    } catch {
      // closed meanwhile
    }
  }
  return { listening, ours };
}

function addressInUse(host: string, port: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen EADDRINUSE: address already in use ${host}:${port}`), { code: 'EADDRINUSE', errno: -98, syscall: 'listen', address: host, port });
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
