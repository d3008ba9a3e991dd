/**
 * The container's HEALTHCHECK (`node dist/src/healthcheck.js`): the API's readiness (Redis and the database answer),
 * or for ROLE=worker the liveness of its METRICS_PORT server. Exit 0 healthy, 1 not.
 */
const worker = process.env.ROLE === 'worker';
const port = worker ? process.env.METRICS_PORT : (process.env.PORT ?? '3000');
if (!port) {
  console.error('healthcheck: ROLE=worker needs METRICS_PORT to be checked');
  process.exit(1);
}
const url = `http://127.0.0.1:${port}${worker ? '/health/live' : '/health/ready'}`;
fetch(url, { signal: AbortSignal.timeout(2_500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  (err: Error) => {
    console.error(`healthcheck: ${url}: ${err.message}`);
    process.exit(1);
  },
);
