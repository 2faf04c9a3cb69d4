/**
 * `nystromformer serve`: a static file server for the browser demo. Shared memory (the engine's
 * arena, read by the kernel threads) needs a cross-origin isolated page, so every response carries
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`.
 *
 * Only what is mounted is served (URL prefix → folder): the demo page, the compiled sources, the
 * kernels and the tokenizer library; never the rest of the disk. `?isolated=0` leaves the isolation
 * headers out, to see the engine's error on a page without them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm', // WebAssembly.compileStreaming refuses any other type
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

/** URL prefix (starting and ending with '/') → folder. */
export type Mounts = Record<string, string>;

export interface ServeOptions {
  mounts: Mounts;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Called once per request with its status, for logs. */
  onRequest?: (status: number, path: string) => void;
}

export interface RunningServer {
  server: Server;
  /** e.g. http://127.0.0.1:8080/ */
  url: string;
  close(): Promise<void>;
}

/** The package's folder (this file is dist/src/cli/serve-command.js). */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

/** What the demo needs: the page and its model at '/', the compiled sources and kernels, the tokenizer library. */
export function demoMounts(root = packageRoot()): Mounts {
  return {
    '/': resolve(root, 'web'),
    '/dist/src/': resolve(root, 'dist/src'),
    '/dist/kernels/': resolve(root, 'dist/kernels'),
    // Resolved like an import, so it is found wherever npm put the dependency.
    '/vendor/tokenizers/': dirname(fileURLToPath(import.meta.resolve('@huggingface/tokenizers'))),
  };
}

/**
 * The file a URL path names, or undefined when no mount holds it. The path is decoded once and
 * resolved inside its mount's folder; anything that leaves the folder ('..', encoded or not) is refused.
 * This is the path as written: respond() also refuses what symbolic links take outside the folder.
 */
export function fileFor(mounts: Mounts, urlPath: string): string | undefined {
  return mountedFile(mounts, urlPath)?.file;
}

/** fileFor's file and the folder of the mount that holds it. */
function mountedFile(mounts: Mounts, urlPath: string): { dir: string; file: string } | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined; // malformed %-escapes
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  const prefix = Object.keys(mounts)
    .filter((p) => path.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix === undefined) return undefined;
  const dir = resolve(mounts[prefix]);
  const rest = path.slice(prefix.length);
  const file = resolve(dir, './' + (rest === '' || rest.endsWith('/') ? rest + 'index.html' : rest));
  return file.startsWith(dir + sep) ? { dir, file } : undefined;
}

/**
 * The file with every symbolic link resolved, if it exists and still lies inside the mount's folder
 * (itself resolved: a mount may be reached through a link, as node_modules can be); else undefined.
 * Without this a link in a served folder (web/link -> /etc/passwd) would be served.
 */
async function containedRealPath(dir: string, file: string): Promise<string | undefined> {
  const [realDir, realFile] = await Promise.all([realpath(dir), realpath(file)].map((p) => p.catch(() => undefined)));
  return realDir !== undefined && realFile !== undefined && realFile.startsWith(realDir + sep) ? realFile : undefined;
}

export function startServer(options: ServeOptions): Promise<RunningServer> {
  for (const prefix of Object.keys(options.mounts)) {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new Error(`serve: mount '${prefix}' must start and end with '/'`);
  }
  const server = createServer((req, res) => {
    respond(options, req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': TYPES['.txt'] });
      res.end(`serve: ${e.message}`);
    });
  });
  const host = options.host ?? '127.0.0.1';
  return new Promise((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      fail(new Error(`serve: cannot listen on ${host}:${options.port ?? 0}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`));
    });
    server.listen(options.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const shown = host.includes(':') ? `[${host}]` : host;
      ok({ server, url: `http://${shown}:${port}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

async function respond(options: ServeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {
    'Cache-Control': 'no-store',
    ...(url.searchParams.get('isolated') === '0' ? {} : ISOLATION_HEADERS),
  };
  const send = (status: number, body: string | Buffer, type = TYPES['.txt']) => {
    options.onRequest?.(status, url.pathname);
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD\n');
  const mounted = mountedFile(options.mounts, url.pathname);
  const file = mounted && (await containedRealPath(mounted.dir, mounted.file));
  if (file === undefined) return send(404, 'not found\n');
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    // One leading slash: '//models/' would be a protocol-relative URL, a redirect to another host.
    res.writeHead(301, { ...headers, Location: url.pathname.replace(/\/{2,}/g, '/') + '/' }).end();
    return options.onRequest?.(301, url.pathname);
  }
  if (!info?.isFile()) return send(404, 'not found\n');
  send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
}

/** The command: serves the demo until interrupted. */
export async function serveCommand(options: { port: number; host: string }): Promise<void> {
  const running = await startServer({ mounts: demoMounts(), port: options.port, host: options.host });
  console.log(`nystromformer demo at ${running.url} (cross-origin isolated: COOP same-origin, COEP require-corp); Ctrl-C stops`);
}
