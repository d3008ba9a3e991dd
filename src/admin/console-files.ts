import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the console's source lives: `admin/` at the repository root (dist/src/admin/ → ../../../admin). */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../../admin/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface ConsoleFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** The servable files, keyed by their path relative to the console root (`js/app.js`). */
export type ConsoleFiles = ReadonlyMap<string, ConsoleFile>;

/**
 * Reads every file with a known type under root once, at start. Serving only from this table makes path
 * traversal impossible by construction: a request can only name a key, never a filesystem path.
 */
export function loadConsoleFiles(root: string = CONSOLE_ROOT): ConsoleFiles {
  const files = new Map<string, ConsoleFile>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        walk(path.join(dir, entry.name), rel);
        continue;
      }
      const contentType = CONTENT_TYPES[path.extname(entry.name).toLowerCase()];
      if (!entry.isFile() || !contentType) continue;
      const body = readFileSync(path.join(dir, entry.name));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      files.set(rel, { body, contentType, etag });
    }
  };
  walk(root, '');
  return files;
}

export type ConsoleTarget =
  | { kind: 'file'; path: string }
  /** Not ours: Bull Board (`/admin/queues*`) or not under /admin at all. */
  | { kind: 'pass' }
  | { kind: 'not-found' };

/** Decides what a request path means for the console: a file, the SPA shell (`index.html`), not ours, or a 404. */
export function consoleTarget(pathname: string, files: ConsoleFiles): ConsoleTarget {
  if (pathname !== '/admin' && !pathname.startsWith('/admin/')) return { kind: 'pass' };
  const raw = pathname.slice('/admin/'.length);
  if (raw.startsWith('queues')) return { kind: 'pass' };
  const segments: string[] = [];
  for (const part of raw.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { kind: 'not-found' };
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return { kind: 'not-found' };
    if (segment !== '') segments.push(segment);
  }
  const rel = segments.join('/');
  if (rel === '') return { kind: 'file', path: 'index.html' };
  if (files.has(rel)) return { kind: 'file', path: rel };
  // A missing asset is a 404; anything else is a client-side route the shell renders.
  if (segments[segments.length - 1].includes('.')) return { kind: 'not-found' };
  return { kind: 'file', path: 'index.html' };
}
