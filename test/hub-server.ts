/**
 * A stand-in for the Hugging Face Hub on localhost, for tests with no network: the Hub's URL layout
 * `/{repo}/resolve/{revision}/{file}` and its headers (X-Repo-Commit, ETag / X-Linked-Etag,
 * X-Linked-Size, 302 to /lfs/{sha256} for LFS files, X-Error-Code on refusals), Range requests on
 * the content path, a gated repository, and faults on demand (a connection cut once, wrong bytes).
 * Datasets: `/datasets/{repo}/resolve/…`, and the dataset viewer's parquet listing
 * `/api/datasets/{repo}/parquet/{config}/{split}` whose URLs `…/{split}/{n}.parquet` redirect to
 * `{config}/{split}/{nnnn}.parquet` of the branch refs/convert/parquet, as on huggingface.co.
 * Every answer carries the CORS headers the Hub sends, so that pages on another origin (the demo,
 * cross-origin isolated) can read it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const PARQUET_BRANCH = 'refs/convert/parquet';

export interface HubRepo {
  files: Map<string, Uint8Array>;
  commit: string;
  /** Other branches or tags → commit (all serve the same files). */
  branches?: string[];
  /** Needs `Authorization: Bearer {token}`. */
  token?: string;
}

export interface LoggedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** Files at least this large, and weights, are served as LFS (as the Hub does past 10 MB, scaled down). */
const isLfs = (file: string, bytes: Uint8Array): boolean => /\.(safetensors|bin|parquet)$/.test(file) || bytes.length > 30_000;
/** huggingface.co's CORS headers, and CORP so that a page with COEP require-corp may load the bytes too. */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-repo-commit, x-linked-etag, x-linked-size, x-error-code, etag, content-length, content-range, accept-ranges',
  'cross-origin-resource-policy': 'cross-origin',
};
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** A git blob's sha1, the etag the Hub gives small files. */
const gitSha1 = (b: Uint8Array): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** The files of a fixture folder, optionally only those `keep` accepts. */
export function folderFiles(dir: string, keep: (name: string) => boolean = () => true): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(dir)) if (statSync(join(dir, name)).isFile() && keep(name)) files.set(name, readFileSync(join(dir, name)));
  return files;
}

export class HubServer {
  readonly repos = new Map<string, HubRepo>();
  readonly requests: LoggedRequest[] = [];
  /** Cut the connection of the next LFS download after this many bytes (once). */
  cutAfter: number | undefined;
  /** Serve wrong bytes (same length) for LFS content whose sha256 is listed. */
  readonly corrupt = new Set<string>();
  /** Serve 100 bytes fewer than announced (a cleanly closed, short answer) for LFS content whose sha256 is listed. */
  readonly short = new Set<string>();
  /** Answer every request with this status (a Hub in trouble), when set. */
  failWith: number | undefined;
  #server: Server;
  /** The content host LFS files redirect to: another origin, as on the Hub, so it gets no token. */
  #content: Server;
  #contentUrl = '';
  #lfs = new Map<string, Uint8Array>();
  url = '';

  constructor() {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers });
      for (const [name, value] of Object.entries(CORS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') {
        return void res.writeHead(204, { 'access-control-allow-methods': 'GET, HEAD', 'access-control-allow-headers': 'authorization, range' }).end();
      }
      this.#handle(req.method ?? 'GET', decodeURI(req.url ?? '/'), req.headers, res);
    };
    this.#server = createServer(handler);
    this.#content = createServer(handler);
  }

  addRepo(id: string, repo: HubRepo): void {
    this.repos.set(id, repo);
    for (const [file, bytes] of repo.files) if (isLfs(file, bytes)) this.#lfs.set(sha256(bytes), bytes);
  }

  /** A dataset whose refs/convert/parquet branch holds `files` ({config}/{split}/0000.parquet …). */
  addDataset(id: string, files: Map<string, Uint8Array>, commit: string): void {
    this.addRepo(`datasets/${id}`, { files, commit, branches: [PARQUET_BRANCH] });
  }

  async start(): Promise<this> {
    const listen = async (server: Server) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    this.url = await listen(this.#server);
    this.#contentUrl = await listen(this.#content);
    return this;
  }

  async stop(): Promise<void> {
    for (const server of [this.#server, this.#content]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Requests whose path contains `part` (all when omitted). */
  count(part = '', method?: string): number {
    return this.requests.filter((r) => r.url.includes(part) && (!method || r.method === method)).length;
  }

  #handle(method: string, path: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
    if (this.failWith) return void res.writeHead(this.failWith).end();
    const lfs = /^\/lfs\/([0-9a-f]{64})$/.exec(path.split('?')[0]);
    if (lfs) return this.#serveLfs(lfs[1], method, headers, res);
    if (path.startsWith('/api/datasets/')) return this.#parquetApi(path.split('?')[0], res);
    const m = /^\/((?:datasets\/)?[^/]+(?:\/[^/]+)?)\/resolve\/([^/]+)\/(.+)$/.exec(path.split('?')[0]);
    const refuse = (status: number, code: string, commit?: string) => {
      res.writeHead(status, { 'x-error-code': code, ...(commit && { 'x-repo-commit': commit }), 'content-type': 'text/plain' });
      res.end(method === 'HEAD' ? undefined : code);
    };
    if (!m) return refuse(404, 'RepositoryNotFound');
    const [, id, encodedRevision, file] = m;
    const revision = decodeURIComponent(encodedRevision); // refs%2Fconvert%2Fparquet
    const repo = this.repos.get(id);
    if (!repo) return refuse(401, 'RepositoryNotFound');
    if (repo.token && headers.authorization !== `Bearer ${repo.token}`) return refuse(headers.authorization ? 403 : 401, 'GatedRepo');
    if (revision !== 'main' && revision !== repo.commit && !repo.branches?.includes(revision)) return refuse(404, 'RevisionNotFound');
    const bytes = repo.files.get(file);
    if (!bytes) return refuse(404, 'EntryNotFound', repo.commit);
    if (isLfs(file, bytes)) {
      const sha = sha256(bytes);
      res.writeHead(302, {
        location: `${this.#contentUrl}/lfs/${sha}?signature=test`, 'x-repo-commit': repo.commit, 'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(bytes.length), etag: `"${gitSha1(bytes)}"`,
      });
      return void res.end();
    }
    res.writeHead(200, { 'x-repo-commit': repo.commit, etag: `W/"${gitSha1(bytes)}"`, 'content-length': bytes.length });
    res.end(method === 'HEAD' ? undefined : bytes);
  }

  /** The listing (a JSON array of URLs) and its URLs, which redirect to the files of refs/convert/parquet. */
  #parquetApi(path: string, res: ServerResponse): void {
    const m = /^\/api\/datasets\/([^/]+\/[^/]+)\/parquet\/([^/]+)\/([^/]+)(?:\/(\d+)\.parquet)?$/.exec(path);
    const repo = m && this.repos.get(`datasets/${m[1]}`);
    if (!m || !repo) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
    const [, id, config, split, n] = m;
    const files = [...repo.files.keys()].filter((f) => f.startsWith(`${config}/${split}/`) && f.endsWith('.parquet')).sort();
    if (n !== undefined) {
      const file = `${config}/${split}/${n.padStart(4, '0')}.parquet`;
      if (!repo.files.has(file)) return void res.writeHead(404).end();
      return void res.writeHead(302, { location: `${this.url}/datasets/${id}/resolve/${encodeURIComponent(PARQUET_BRANCH)}/${file}` }).end();
    }
    if (files.length === 0) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(files.map((_, k) => `${this.url}/api/datasets/${id}/parquet/${config}/${split}/${k}.parquet`)));
  }

  #serveLfs(sha: string, method: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
    let bytes = this.#lfs.get(sha);
    if (!bytes) return void res.writeHead(404).end();
    if (this.corrupt.has(sha)) bytes = bytes.map((b) => b ^ 0xff);
    const range = /^bytes=(\d+)-$/.exec(headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start > bytes.length) return void res.writeHead(416).end();
    const body = bytes.subarray(start, this.short.has(sha) ? -100 : undefined);
    res.writeHead(range ? 206 : 200, {
      'content-length': body.length, 'accept-ranges': 'bytes',
      ...(range && { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` }),
    });
    if (method === 'HEAD') return void res.end();
    const cut = this.cutAfter;
    if (cut !== undefined && cut < body.length) {
      this.cutAfter = undefined;
      // Part of the file, then the connection dies, as a dropped network does.
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }
}
