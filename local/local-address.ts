/**
 * Where local mode listens, and whom it answers. It listens on the loopback interface only, on a fixed
 * port by default, so the addresses it hands out (approval links printed and emailed, the GitHub
 * webhook URL, `endpoint.json`, the git hooks) stay the same across restarts.
 *
 * A fixed loopback port is reachable from any web page the user has open: a page of a domain the
 * attacker makes resolve to 127.0.0.1 (DNS rebinding) talks to it as its own origin. What gives such a
 * request away is its `Host` header, which names the page's domain. So every local listener answers
 * only requests addressed to a loopback name with its own port, as development servers do (webpack's
 * and Vite's allowed hosts), and sends no CORS headers, so no other origin may read an answer.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forTerminal } from '../core/text';

/**
 * Local mode's port unless `stepline start --port` says another: 7451, in IANA's registered range
 * (1024-49151), so no operating system hands it out as an ephemeral port (Linux uses 32768-60999),
 * absent from this machine's /etc/services, and clear of what development machines commonly run:
 * web dev servers (3000-3003, 4000, 4200, 4173, 5000, 5173, 8000, 8080, 8888, 9000), AWS stand-ins
 * (LocalStack 4566, DynamoDB Local 8000, Step Functions Local 8083, SAM 3000/3001), databases (3306,
 * 5432, 6379, 27017), mail catchers (1025, 8025) and debuggers (9229).
 */
export const DEFAULT_LOCAL_PORT = 7451;

/** The one interface local mode listens on. */
export const LOOPBACK_ADDRESS = '127.0.0.1';

/** The names a request to a local listener may address it by (with the listener's port). */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** The port local mode was to listen on is held by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    /** Who holds it, as far as can be told: "another stepline local mode (pid 12, …)", "another program". */
    readonly holder: string,
  ) {
    super(
      `port ${port} on ${LOOPBACK_ADDRESS} is in use by ${holder}: stop it, or start local mode on another port with --port N`,
    );
  }
}

/** Whether a request's `Host` names this listener by a loopback name and its own port. */
export function addressedToLoopback(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return LOOPBACK_NAMES.some((name) => host.toLowerCase() === `${name}:${port}`);
}

/**
 * Puts the Host check in front of every request listener the server has now (call it after the
 * server's handler is attached): a request addressed to any other name is answered 403 in plain text,
 * and never reaches the handler.
 */
export function onlyLoopbackHosts(server: Server): void {
  const handlers = server.listeners('request') as RequestListener[];
  // The port it listens on, kept: a request still answered while the server closes has no address to ask.
  let port = 0;
  server.on('listening', () => (port = (server.address() as AddressInfo).port));
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (addressedToLoopback(req.headers.host, port)) return handlers.forEach((handler) => handler(req, res));
    refuse(req, res, port);
  });
}

function refuse(req: IncomingMessage, res: ServerResponse, port: number): void {
  res.writeHead(403, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    connection: 'close',
  });
  res.end(
    `refused: stepline local mode answers only requests addressed to ${LOOPBACK_NAMES.map((name) => `${name}:${port}`).join(', ')} (a web page reaching it by another name is refused: DNS rebinding)\n`,
  );
  res.once('finish', () => req.destroy());
}

/**
 * Listens on the loopback interface at `port` (0: any free port); resolves with the port. A port
 * another process holds is refused with a PortInUseError naming it and, where it can be told, its holder.
 */
export function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, describeHolder(port)) : error);
    };
    server.once('error', failed);
    server.listen(port, LOOPBACK_ADDRESS, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Who holds the port, in words: a stepline local mode or another program, by pid and command where readable. */
function describeHolder(port: number): string {
  const holder = portHolder(port);
  if (!holder) return 'another program';
  const what = /\bstepline\b/.test(holder.command) ? 'another stepline local mode' : 'another program';
  return `${what} (pid ${holder.pid}: ${forTerminal.line(holder.command.slice(0, 120))})`;
}

/**
 * The process listening on a TCP port, on Linux: the listening socket's inode from /proc/net/tcp and
 * tcp6 (state 0A is LISTEN; the local address's port is hexadecimal after the colon), then the process
 * with a descriptor on that socket under /proc/<pid>/fd. Only processes this user may inspect are seen;
 * elsewhere, or when nothing is found, undefined.
 */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const localPort = fields[1]?.split(':')[1];
      if (localPort && parseInt(localPort, 16) === port && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  const sockets = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  for (const pid of safeReaddir('/proc').filter((name) => /^\d+$/.test(name))) {
    const fds = safeReaddir(`/proc/${pid}/fd`);
    if (!fds.some((fd) => sockets.has(safeReadlink(`/proc/${pid}/fd/${fd}`)))) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      // The process ended meanwhile: its pid is still worth saying.
    }
    return { pid: Number(pid), command: command || 'unknown command' };
  }
  return undefined;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
