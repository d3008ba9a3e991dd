import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { AuthService } from '../auth/auth.service.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { scrapeRefusal } from './prometheus.controller.js';

/**
 * A worker-only process has no HTTP server, yet its delivery counters and histograms live in it: with METRICS_PORT
 * it serves GET /metrics (same admin-token rule as the API's) on its own port, and GET /health/live (container checks).
 */
@Injectable()
export class WorkerMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerMetrics');
  private server?: http.Server;

  constructor(
    private readonly metrics: PrometheusMetrics,
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort === undefined) return;
    this.server = http.createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.config.metricsPort, this.config.host, resolve));
    this.logger.log(`metrics on http://127.0.0.1:${(this.server.address() as AddressInfo).port}/metrics`);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && path === '/health/live')
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    if (req.method !== 'GET' || path !== '/metrics') return void res.writeHead(404).end();
    const refusal = scrapeRefusal(this.auth, req);
    if (refusal)
      return void res
        .writeHead(refusal.getStatus(), { 'Content-Type': 'application/json', ...refusal.headers })
        .end(JSON.stringify(refusal.getResponse()));
    const body = await this.metrics.registry.metrics();
    res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
  }
}
