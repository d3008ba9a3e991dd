import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CONSOLE_ROOT, consoleTarget, loadConsoleFiles } from '../../src/admin/console-files.js';
import { startTestApp, type TestApp } from '../support/launcher.js';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http keeps the path byte for byte (supertest/fetch would normalize `..` away before sending). */
function raw(app: TestApp, method: string, rawPath: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: rawPath, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SHELL_MARKER = '<title>Humana Events · Console</title>';

/** Every module specifier of an ES module source: static imports/re-exports (also multi-line) and import(). */
/** What the browser loads: comments are left out (JSDoc's `import('…')` types are for the type check only). */
function moduleSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const pattern = /^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/gm;
  return [...new Set([...code.matchAll(pattern)].map((m) => m[1] ?? m[2]))];
}

function consoleSourceFiles(dir = CONSOLE_ROOT, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? consoleSourceFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

describe('operator console served at /admin', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('/admin and /admin/ serve the shell with a strict CSP and security headers', async () => {
    for (const p of ['/admin', '/admin/']) {
      const r = await raw(app, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.ok(r.body.includes(SHELL_MARKER));
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /(^|; )default-src 'self'(;|$)/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /object-src 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['x-frame-options'], 'DENY');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.match(String(r.headers.etag), /^"[\w-]{27}"$/);
    }
  });

  test('the shell has no inline script or style, and loads only same-origin /admin/ files', async () => {
    const { body } = await raw(app, 'GET', '/admin/');
    for (const tag of body.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\ssrc="\/admin\/[^"]+"/, `inline script: ${tag}`);
    assert.doesNotMatch(body, /<style\b|\sstyle=|\son[a-z]+=/i);
    const refs = [...body.matchAll(/\s(?:src|href)="([^"#][^"]*)"/g)].map((m) => m[1]);
    assert.ok(refs.length >= 3);
    for (const ref of refs) assert.match(ref, /^\/admin\//, `external or relative reference: ${ref}`);
  });

  test('every file of the module graph is served with its content type, nothing missing', async () => {
    const { body } = await raw(app, 'GET', '/admin/');
    const queue = [...body.matchAll(/\s(?:src|href)="(\/admin\/[^"]+)"/g)].map((m) => m[1]);
    const seen = new Set<string>();
    const types: Record<string, string> = {
      '.js': 'text/javascript; charset=utf-8',
      '.css': 'text/css; charset=utf-8',
      '.svg': 'image/svg+xml',
    };
    while (queue.length) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const r = await raw(app, 'GET', url);
      assert.equal(r.status, 200, url);
      assert.equal(r.headers['content-type'], types[path.extname(url)], url);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      if (url.endsWith('.js')) {
        for (const spec of moduleSpecifiers(r.body)) queue.push(new URL(spec, `http://x${url}`).pathname);
      }
    }
    // main + lib + ui + every view is reachable from the shell
    assert.ok(
      seen.has('/admin/js/main.js') && seen.has('/admin/js/views/live.js') && seen.has('/admin/js/lib/api.js'),
      [...seen].join(' '),
    );
    assert.ok(seen.size >= 20, `${seen.size} files`);
  });

  test('conditional GET answers 304; HEAD answers headers only', async () => {
    const first = await raw(app, 'GET', '/admin/js/main.js');
    const again = await raw(app, 'GET', '/admin/js/main.js', { 'If-None-Match': String(first.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    const head = await raw(app, 'HEAD', '/admin/styles.css');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(Number(head.headers['content-length']), readFileSync(path.join(CONSOLE_ROOT, 'styles.css')).length);
    assert.equal(head.body, '');
  });

  test('SPA fallback: client routes get the shell; a missing asset is a JSON 404', async () => {
    for (const p of ['/admin/webhooks', '/admin/webhooks/wh_123/deliveries/del_1', '/admin/dlq?webhookId=x']) {
      const r = await raw(app, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.ok(r.body.includes(SHELL_MARKER), p);
      assert.ok(r.headers['content-security-policy'], p);
    }
    for (const p of ['/admin/js/nope.js', '/admin/missing.css', '/admin/.gitkeep']) {
      const r = await raw(app, 'GET', p);
      assert.equal(r.status, 404, p);
      assert.equal(JSON.parse(r.body).error.code, 'not_found', p);
    }
  });

  test('/admin/queues* is left to Bull Board, never answered with the console shell', async () => {
    for (const p of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues', '/admin/queues/static/main.js']) {
      const r = await raw(app, 'GET', p);
      assert.ok(!r.body.includes(SHELL_MARKER), `${p} answered with the console shell`);
      // Without Bull Board mounted, the app's own JSON 404 answers; with it, Bull Board does (401 without the admin token).
      if (r.status === 404 && String(r.headers['content-type']).startsWith('application/json'))
        assert.equal(JSON.parse(r.body).error.code, 'not_found');
    }
  });

  test('no path traversal, plain or encoded', async () => {
    const attempts = [
      '/admin/../package.json',
      '/admin/js/../../package.json',
      '/admin/%2e%2e/package.json',
      '/admin/%2E%2E/%2E%2E/package.json',
      '/admin/..%2fpackage.json',
      '/admin/..%2Fsrc%2Fmain.ts',
      '/admin/%2e%2e%2fpackage.json',
      '/admin/..%5cpackage.json',
      '/admin/..\\package.json',
      '/admin/js/%00main.js',
      '/admin/%c0%ae%c0%ae/package.json',
      '/admin/%E0%A4%A',
      '/admin/./index.html',
    ];
    for (const p of attempts) {
      const r = await raw(app, 'GET', p);
      // 404 from the console, or 400 when Express cannot even decode the path: never the file
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body, /"name":\s*"humana-events"|"dependencies"|import 'reflect-metadata'/, p);
      assert.match(JSON.parse(r.body).error.code, /^(not_found|bad_request)$/, p);
    }
  });

  test('only GET and HEAD are served; other methods get the JSON 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await raw(app, method, '/admin/');
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD', method);
      assert.equal(JSON.parse(r.body).error.code, 'method_not_allowed', method);
      assert.ok(!r.body.includes(SHELL_MARKER));
    }
  });
});

describe('console source rules', () => {
  const files = consoleSourceFiles();
  const sources = files
    .filter((f) => /\.(js|html|css)$/.test(f))
    .map((f) => ({ f, text: readFileSync(path.join(CONSOLE_ROOT, f), 'utf8') }));

  test('nothing renders data as HTML or evaluates code', () => {
    for (const { f, text } of sources.filter((s) => s.f.endsWith('.js'))) {
      assert.doesNotMatch(
        text,
        /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setTimeout\(\s*['"`]/,
        f,
      );
    }
  });

  test('dependency-free: relative imports only, no remote URL loaded from code or styles', () => {
    for (const { f, text } of sources) {
      if (f.endsWith('.js')) {
        const specs = moduleSpecifiers(text);
        if (f === 'js/main.js') assert.ok(specs.length >= 10, 'the import scanner sees main.js imports');
        for (const spec of specs) assert.match(spec, /^\.{1,2}\/[\w./-]+\.js$/, `${f}: ${spec}`);
      }
      if (f.endsWith('.css')) assert.doesNotMatch(text, /@import|url\(\s*['"]?(https?:)?\/\//, f);
      assert.doesNotMatch(text, /(?:src|href)=["']https?:/, f);
    }
  });

  test('the file table serves known types only and maps paths to keys, never to the filesystem', () => {
    const table = loadConsoleFiles();
    assert.ok(table.has('index.html') && table.has('js/main.js') && table.has('styles.css'));
    assert.ok(![...table.keys()].some((k) => k.endsWith('.d.ts') || k.startsWith('.') || k.includes('/.')));
    assert.deepEqual(consoleTarget('/admin', table), { kind: 'file', path: 'index.html' });
    assert.deepEqual(consoleTarget('/admin/js/main.js', table), { kind: 'file', path: 'js/main.js' });
    assert.deepEqual(consoleTarget('/admin//js//main.js', table), { kind: 'file', path: 'js/main.js' });
    assert.deepEqual(consoleTarget('/admin/live', table), { kind: 'file', path: 'index.html' });
    assert.deepEqual(consoleTarget('/admin/queues', table), { kind: 'pass' });
    assert.deepEqual(consoleTarget('/admin/queues/api/queues', table), { kind: 'pass' });
    assert.deepEqual(consoleTarget('/administrator', table), { kind: 'pass' });
    assert.deepEqual(consoleTarget('/api/v1/events', table), { kind: 'pass' });
    assert.deepEqual(consoleTarget('/admin/js/%2e%2e/index.html', table), { kind: 'not-found' });
    assert.deepEqual(consoleTarget('/admin/%ff', table), { kind: 'not-found' });
  });
});
