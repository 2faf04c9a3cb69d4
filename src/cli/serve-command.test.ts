import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoMounts, fileFor, startServer } from './serve-command.js';

/** A raw GET: fetch() would normalise '..' in the path before sending it. */
function get(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

function fixture(): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'serve-'));
  const root = join(base, 'site');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>hi');
  writeFileSync(join(root, 'a.js'), 'export {}');
  writeFileSync(join(root, 'k.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(root, 'sub', 'index.html'), 'sub');
  writeFileSync(join(base, 'secret.txt'), 'secret');
  writeFileSync(join(base, 'site-evil.txt'), 'evil'); // shares the mount's name as a prefix
  return { root, outside: base };
}

test('serve: isolation headers, MIME types, index.html, 404 and 405', async () => {
  const { root } = fixture();
  const s = await startServer({ mounts: { '/': root }, port: 0 });
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(s.url, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String((await get(s.url, '/a.js')).headers['content-type']), /^text\/javascript/);
    assert.equal((await get(s.url, '/k.wasm')).headers['content-type'], 'application/wasm');
    assert.equal((await get(s.url, '/sub/')).body, 'sub');
    const redirect = await get(s.url, '/sub');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/sub/');
    assert.equal((await get(s.url, '/missing.js')).status, 404);
    assert.equal((await get(s.url, '/a.js', 'POST')).status, 405);
    const head = await get(s.url, '/a.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const plain = await get(s.url, '/?isolated=0');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['cross-origin-opener-policy'], undefined);
  } finally {
    await s.close();
  }
});

test('serve: no path leaves its mount', async () => {
  const { root } = fixture();
  const s = await startServer({ mounts: { '/files/': root }, port: 0 });
  try {
    assert.equal((await get(s.url, '/files/a.js')).status, 200);
    for (const path of [
      '/files/../secret.txt', '/files/%2e%2e/secret.txt', '/files/%2E%2E%2Fsecret.txt', '/files/..%2fsecret.txt',
      '/files/sub/../../secret.txt', '/files/..%5csecret.txt', '/files/%2e%2e/site-evil.txt', '/files/a.js%00.html',
      '/files/%E0%A4%A', '/secret.txt', '/files/' + encodeURIComponent(join(root, '..', 'secret.txt')),
    ]) {
      const r = await get(s.url, path);
      assert.equal(r.status, 404, `${path} → ${r.status} ${r.body}`);
      assert.doesNotMatch(r.body, /secret|evil/);
    }
  } finally {
    await s.close();
  }
});

test('serve: symbolic links are followed only where they stay inside their mount', async () => {
  const { root, outside } = fixture();
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt')); // web/link -> a file outside
  symlinkSync(outside, join(root, 'linkdir')); // a folder outside
  symlinkSync(join(root, 'a.js'), join(root, 'inside.js')); // a link that stays inside is served
  symlinkSync(root, join(outside, 'via')); // a mount reached through a link (as node_modules can be)
  const s = await startServer({ mounts: { '/': root, '/files/': root, '/via/': join(outside, 'via') }, port: 0 });
  try {
    for (const path of ['/link.txt', '/linkdir/secret.txt', '/linkdir', '/linkdir/', '/files/link.txt', '/files/linkdir/secret.txt']) {
      const r = await get(s.url, path);
      assert.equal(r.status, 404, `${path} → ${r.status} ${r.body}`);
      assert.doesNotMatch(r.body, /secret/);
    }
    assert.equal((await get(s.url, '/inside.js')).body, 'export {}');
    assert.equal((await get(s.url, '/via/a.js')).body, 'export {}');
    assert.equal((await get(s.url, '/via/link.txt')).status, 404);
  } finally {
    await s.close();
  }
});

test('serve: redirects to a folder stay on this server, whatever slashes the path holds', async () => {
  const { root } = fixture();
  mkdirSync(join(root, 'models'));
  const s = await startServer({ mounts: { '/': root }, port: 0 });
  try {
    for (const path of ['/.//models', '//models', '///models', '/./models', '/sub//..//models', '/\\models', '/.//sub']) {
      const r = await get(s.url, path);
      if (r.status !== 301) continue;
      const location = String(r.headers.location);
      assert.match(location, /^\/[^/\\]/, `${path} → Location ${location}`);
      assert.ok(location.endsWith('/'), `${path} → Location ${location}`);
    }
    assert.equal((await get(s.url, '/.//models')).headers.location, '/models/');
  } finally {
    await s.close();
  }
});

test('serve: fileFor picks the longest mount and stays inside it', () => {
  const mounts = { '/': '/srv/web', '/dist/src/': '/pkg/dist/src' };
  assert.equal(fileFor(mounts, '/dist/src/web/demo.js'), '/pkg/dist/src/web/demo.js');
  assert.equal(fileFor(mounts, '/models/x/config.json'), '/srv/web/models/x/config.json');
  assert.equal(fileFor(mounts, '/'), '/srv/web/index.html');
  assert.equal(fileFor(mounts, '/dist/src/../../secret'), undefined);
  assert.equal(fileFor(mounts, '/..'), undefined);
});

test('serve: the demo mounts exist and hold the page, the kernels and the tokenizer library', async () => {
  const s = await startServer({ mounts: demoMounts(), port: 0 });
  try {
    assert.equal((await get(s.url, '/')).status, 200);
    assert.equal((await get(s.url, '/dist/src/web/demo.js')).status, 200);
    assert.equal((await get(s.url, '/dist/kernels/simd.wasm')).headers['content-type'], 'application/wasm');
    assert.equal((await get(s.url, '/vendor/tokenizers/tokenizers.mjs')).status, 200);
    assert.equal((await get(s.url, '/models/tiny-mlm/config.json')).status, 200);
    assert.equal((await get(s.url, '/dist/test/architecture.test.js')).status, 404); // only dist/src and dist/kernels
  } finally {
    await s.close();
  }
});

test('serve: a port in use is a clear error', async () => {
  const { root } = fixture();
  const s = await startServer({ mounts: { '/': root }, port: 0 });
  try {
    const port = Number(new URL(s.url).port);
    await assert.rejects(startServer({ mounts: { '/': root }, port }), /cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
    assert.throws(() => startServer({ mounts: { files: root } }), /mount 'files' must start and end with '\/'/);
  } finally {
    await s.close();
  }
});
