import { ADMIN_TOKEN } from '../../test/support/launcher.js';
import { getText } from './http.js';

export interface EventLoopDelay {
  p99Ms: number;
  maxMs: number;
}

const sampleMs = (text: string, name: string): number => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  if (!m) throw new Error(`/metrics has no ${name}`);
  return Math.round(Number(m[1]) * 1e5) / 100;
};

/**
 * The event-loop delay of an app process since its previous scrape, from its Prometheus endpoint: prom-client's
 * default metrics read a `monitorEventLoopDelay` histogram (10 ms resolution) and reset it on every scrape, so scrape
 * once right before a phase (to reset) and once right after it.
 */
export async function scrapeEventLoopDelay(baseUrl: string): Promise<EventLoopDelay> {
  const text = await getText(`${baseUrl}/metrics`, { authorization: `Bearer ${ADMIN_TOKEN}` });
  return { p99Ms: sampleMs(text, 'nodejs_eventloop_lag_p99_seconds'), maxMs: sampleMs(text, 'nodejs_eventloop_lag_max_seconds') };
}
