import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiError } from '../common/api-error.js';
import { AuthService } from './auth.service.js';
import { adminCredentialFrom, credentialFrom } from './credentials.js';
import type { Principal } from './principal.js';
import type { Scope } from './scopes.js';

const SCOPE_KEY = 'humana:scope';
const PUBLIC_KEY = 'humana:public';
const QUERY_TOKEN_KEY = 'humana:query-token';

/** The route needs this scope on the caller's key (403 otherwise). */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);
/** The route needs no API key (health, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
/** The route also accepts `?access_token=` (SSE). */
export const AllowQueryToken = () => SetMetadata(QUERY_TOKEN_KEY, true);

type AuthedRequest = Request & { principal?: Principal };

/** Global guard: every route needs a valid API key unless marked @Public(). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const allowQuery = this.reflector.getAllAndOverride<boolean>(QUERY_TOKEN_KEY, targets) ?? false;
    const principal = await this.auth.authenticate(credentialFrom(req, allowQuery));
    if (!principal) throw ApiError.unauthorized();
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_KEY, targets);
    if (scope && !principal.scopes.has(scope)) throw ApiError.forbidden(`This API key lacks the "${scope}" scope`);
    req.principal = principal;
    return true;
  }
}

/** Admin routes: `Authorization: Bearer <ADMIN_TOKEN>` (or Basic with the token as password); 404 when no token is configured. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (!this.auth.adminEnabled) throw ApiError.notFound('Route');
    const req = ctx.switchToHttp().getRequest<Request>();
    if (!this.auth.isAdminToken(adminCredentialFrom(req))) throw new ApiError(401, 'unauthorized', 'Missing or invalid admin token');
    return true;
  }
}

/** The authenticated caller (set by ApiKeyGuard). */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.principal) throw ApiError.unauthorized();
  return req.principal;
});
