import { ADMIN_TOKEN } from '../../test/support/launcher.js';
import { keepAliveAgent, postJson } from './http.js';

export interface BenchOrg {
  id: string;
  /** An all-scopes API key of the organization. */
  key: string;
}

/** Creates an organization and an API key for it through the admin API (the stack runs with ADMIN_TOKEN). */
export async function createOrganization(apiUrl: string, name: string): Promise<BenchOrg> {
  const agent = keepAliveAgent(1);
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  try {
    const org = await postJson(agent, `${apiUrl}/api/v1/admin/organizations`, JSON.stringify({ name }), auth);
    if (org.status !== 201) throw new Error(`POST /api/v1/admin/organizations → ${org.status}: ${org.body.slice(0, 300)}`);
    const { id } = JSON.parse(org.body) as { id: string };
    const key = await postJson(agent, `${apiUrl}/api/v1/admin/organizations/${id}/api-keys`, JSON.stringify({ name: 'bench' }), auth);
    if (key.status !== 201) throw new Error(`POST …/api-keys → ${key.status}: ${key.body.slice(0, 300)}`);
    return { id, key: (JSON.parse(key.body) as { key: string }).key };
  } finally {
    agent.destroy();
  }
}
