import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import type { StreamConnection } from './stream-connection.js';

/** Every open connection of this process, whatever its transport: what a key revocation must reach. */
@Injectable()
export class OpenStreams implements OnModuleInit {
  private readonly open = new Set<StreamConnection>();

  constructor(private readonly auth: AuthService) {}

  onModuleInit(): void {
    this.auth.onKeyRevoked((keyId) => {
      for (const conn of this.open) if (conn.principal.keyId === keyId) conn.cut('key_revoked');
    });
  }

  add(conn: StreamConnection): void {
    this.open.add(conn);
  }

  delete(conn: StreamConnection): void {
    this.open.delete(conn);
  }
}
