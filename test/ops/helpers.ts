import { ADMIN_TOKEN, type TestApp, type TestOrg } from '../support/launcher.js';

export const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };

export interface Envelope {
  id: string;
  type: string;
  organizationId: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export const sampleEvent = (n = 0) => ({ type: 'companion.activated', data: { companionId: `comp-${n}`, previousStatus: 'inactive' } });

export async function setLimits(app: TestApp, organizationId: string, limits: Record<string, number>): Promise<void> {
  await app.http.patch(`/api/v1/admin/organizations/${organizationId}/limits`).set(ADMIN).send(limits).expect(200);
}

/** The organization's whole history, oldest first. */
export async function historyOf(app: TestApp, org: TestOrg, query = ''): Promise<Envelope[]> {
  // Every page: a page stops at 1,000 events or at its byte cap, and a test may publish more than one page holds.
  const events: Envelope[] = [];
  let cursor = '';
  do {
    const res = await app.http.get(`/api/v1/events/history?limit=1000${query}${cursor}`).set(org.auth).expect(200);
    events.push(...(res.body.events as Envelope[]));
    cursor = res.body.nextCursor ? `&cursor=${encodeURIComponent(res.body.nextCursor as string)}` : '';
  } while (cursor);
  return events.reverse();
}
