import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { errorBody } from '../common/api-error.js';
import { consoleTarget, type ConsoleFiles } from './console-files.js';

export const CONSOLE_FILES = Symbol('CONSOLE_FILES');

/** The console talks only to this origin: no inline code, no third-party anything, no framing. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // File names carry no content hash, so every use revalidates (cheap: ETag → 304).
  'Cache-Control': 'no-cache',
};

/** Serves the operator console at /admin: files from memory, the SPA shell for client routes, Bull Board's paths untouched. */
@Injectable()
export class ConsoleMiddleware implements NestMiddleware {
  constructor(@Inject(CONSOLE_FILES) private readonly files: ConsoleFiles) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const pathname = req.originalUrl.split('?', 1)[0];
    const target = consoleTarget(pathname, this.files);
    if (target.kind === 'pass') return next();
    res.set(SECURITY_HEADERS);
    const file = target.kind === 'file' ? this.files.get(target.path) : undefined;
    if (!file) {
      res.status(404).json(errorBody('not_found', `${pathname} not found`));
      return;
    }
    res.set({ 'Content-Type': file.contentType, ETag: file.etag });
    if (req.headers['if-none-match'] === file.etag) {
      res.status(304).end();
      return;
    }
    res.status(200).set('Content-Length', String(file.body.length));
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }
}
