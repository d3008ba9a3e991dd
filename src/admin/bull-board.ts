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
      if (config.nodeEnv !== 'production') return next();
      res.status(404).json(errorBody('not_found', 'Route not found'));
      return;
    }
    const token = adminCredentialFrom(req);
    if (token && safeEqual(token, config.adminToken)) return next();
    res.status(401).set('WWW-Authenticate', 'Basic realm="Bull Board"').json(errorBody('unauthorized', 'Missing or invalid admin token'));
  };
}
