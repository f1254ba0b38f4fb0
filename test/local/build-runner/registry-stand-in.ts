import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';

/** The test CA and the 127.0.0.1/localhost certificate it signed (tls/README.md says how they were made). */
export const TEST_CA = join(__dirname, 'tls', 'ca.pem');

export interface PackedPackage {
  readonly name: string;
  readonly version: string;
  readonly tarball: Buffer;
  readonly bin?: Readonly<Record<string, string>>;
}

/**
 * Packs package directories with `npm pack` (npm's own tarball format, made offline), from files given
 * by path. A file whose content starts with `#!` is made executable.
 */
export function packPackages(
  workDir: string,
  packages: ReadonlyArray<{ readonly manifest: Manifest; readonly files: Readonly<Record<string, string>> }>,
): PackedPackage[] {
  return packages.map(({ manifest, files }) => {
    const dir = join(workDir, `${manifest.name}-${manifest.version}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
      if (content.startsWith('#!')) chmodSync(join(dir, path), 0o755);
    }
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', dir, '--json', '--pack-destination', workDir], {
        cwd: workDir,
        encoding: 'utf8',
        env: { ...process.env, npm_config_update_notifier: 'false' },
      }),
    ) as { filename: string }[];
    return { ...manifest, tarball: readFileSync(join(workDir, packed.filename)) };
  });
}

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly bin?: Readonly<Record<string, string>>;
}

export interface RegistryStandIn {
  /** `https://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** `METHOD path` of every request, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * An npm registry on loopback, over HTTPS with a certificate of the test CA: serves each package's
 * packument (`GET /<name>`, the abbreviated form npm asks for is a subset) and tarball, `GET /files/<name>`
 * for plain files, and npm's 404 body for anything else. It sends the CA with its certificate, as a
 * TLS-inspecting proxy does, so a client that does not trust the CA sees SELF_SIGNED_CERT_IN_CHAIN.
 */
export async function startRegistryStandIn(
  packages: readonly PackedPackage[],
  files: Readonly<Record<string, string>>,
): Promise<RegistryStandIn> {
  const requests: string[] = [];
  const tls = join(__dirname, 'tls');
  const server: HttpsServer = createHttpsServer(
    {
      key: readFileSync(join(tls, 'server-key.pem')),
      cert: readFileSync(join(tls, 'server.pem'), 'utf8') + readFileSync(TEST_CA, 'utf8'),
    },
    (request, response) => {
      const path = request.url ?? '/';
      requests.push(`${request.method} ${path}`);
      const { status, type, body } = answer(path);
      response.writeHead(status, { 'content-type': type }).end(body);
    },
  );
  const answer = (path: string): { status: number; type: string; body: string | Buffer } => {
    const tarball = packages.find((p) => path === `/${p.name}/-/${p.name}-${p.version}.tgz`)?.tarball;
    if (tarball) return { status: 200, type: 'application/octet-stream', body: tarball };
    const file = path.startsWith('/files/') ? files[path.slice('/files/'.length)] : undefined;
    if (file !== undefined) return { status: 200, type: 'text/plain', body: file };
    const versions = packages.filter((p) => `/${p.name}` === path);
    if (versions.length === 0) return { status: 404, type: 'application/json', body: '{"error":"Not found"}' };
    const name = versions[0].name;
    const packument = {
      name,
      'dist-tags': { latest: versions[versions.length - 1].version },
      versions: Object.fromEntries(
        versions.map(({ version, bin, tarball: bytes }) => [
          version,
          {
            name,
            version,
            ...(bin ? { bin } : {}),
            dist: {
              tarball: `${url}/${name}/-/${name}-${version}.tgz`,
              integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
            },
          },
        ]),
      ),
    };
    return { status: 200, type: 'application/json', body: JSON.stringify(packument) };
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ProxyStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The `host:port` of every CONNECT, in order. */
  readonly tunnels: string[];
  close(): Promise<void>;
}

/** An HTTP proxy on loopback that tunnels CONNECT requests, as a company's forward proxy does for HTTPS. */
export async function startProxyStandIn(): Promise<ProxyStandIn> {
  const tunnels: string[] = [];
  // Tunnelled sockets leave the HTTP server's keeping: closed here at the end.
  const sockets = new Set<Socket>();
  const server: HttpServer = createHttpServer((_, response) => response.writeHead(405).end());
  server.on('connect', (request, client: Socket) => {
    const target = request.url ?? '';
    tunnels.push(target);
    const [host, port] = target.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client).pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
