import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/config.js';
import { adminCredentialFrom } from '../auth/credentials.js';
import { safeEqual } from '../auth/auth.service.js';
import { errorBody } from '../common/api-error.js';

export const BULL_BOARD_ROUTE = '/admin/queues';

/**
 * Guards Bull Board: with ADMIN_TOKEN set, `Authorization: Bearer <token>` or HTTP Basic with the token as password
 * (browsers get a Basic challenge). Without a token it is open outside production and absent (404) in production.
 */
export function bullBoardAuth(config: AppConfig) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!config.adminToken) {
      if (config.nodeEnv !== 'production') return sameOrigin(req, res, next);
      res.status(404).json(errorBody('not_found', 'Route not found'));
      return;
    }
    const token = adminCredentialFrom(req);
    if (token && safeEqual(token, config.adminToken)) return sameOrigin(req, res, next);
    res.status(401).set('WWW-Authenticate', 'Basic realm="Bull Board"').json(errorBody('unauthorized', 'Missing or invalid admin token'));
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function originOf(value: string | undefined): string | null {
  try {
    return value ? new URL(value).host : null;
  } catch {
    return null;
  }
}

/**
 * CSRF guard for state-changing requests: a browser resends Basic credentials (and reaches an open dev board) on
 * cross-site requests, so Origin (else Referer) must name this host. Without either, only a Bearer token — which no
 * browser attaches by itself — is trusted.
 */
function sameOrigin(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  const claimed = req.headers.origin ?? req.headers.referer;
  const from = originOf(claimed);
  if (from ? from === req.headers.host : !claimed && /^Bearer\s/i.test(req.headers.authorization ?? '')) return next();
  res
    .status(403)
    .json(
      errorBody(
        'cross_origin_refused',
        'State-changing Bull Board requests must come from its own origin (Origin or Referer naming this host)',
        [{ field: 'origin', message: claimed ? `${claimed} is not ${req.headers.host}` : 'no Origin or Referer header' }],
      ),
    );
}
