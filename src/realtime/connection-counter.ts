import { Injectable } from '@nestjs/common';

export type Transport = 'sse' | 'ws' | 'socketio';

/** Live connection counts per transport and organization (health, metrics, per-organization connection limits). */
@Injectable()
export class ConnectionCounter {
  private readonly byTransport: Record<Transport, number> = { sse: 0, ws: 0, socketio: 0 };
  private readonly byOrg = new Map<string, number>();

  open(transport: Transport, organizationId: string): void {
    this.byTransport[transport]++;
    this.byOrg.set(organizationId, (this.byOrg.get(organizationId) ?? 0) + 1);
  }

  close(transport: Transport, organizationId: string): void {
    this.byTransport[transport] = Math.max(0, this.byTransport[transport] - 1);
    const n = (this.byOrg.get(organizationId) ?? 1) - 1;
    if (n <= 0) this.byOrg.delete(organizationId);
    else this.byOrg.set(organizationId, n);
  }

  counts(): Readonly<Record<Transport, number>> {
    return { ...this.byTransport };
  }

  forOrganization(organizationId: string): number {
    return this.byOrg.get(organizationId) ?? 0;
  }

  /** Open connections per organization (organizations with none are absent). */
  byOrganization(): ReadonlyMap<string, number> {
    return new Map(this.byOrg);
  }
}
