import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { APP_CONFIG, hasApi, type AppConfig } from '../config/config.js';
import { Delivery } from '../delivery/delivery.entity.js';
import { Webhook } from '../webhooks/webhook.entity.js';
import { AppLogger, DataPathLogger } from './app-logger.js';
import { EventMetricsController } from './event-metrics.controller.js';
import { EventMetricsService } from './event-metrics.service.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { HttpObservabilityMiddleware } from './http-observability.middleware.js';
import { InternalErrorReporter } from './internal-error-reporter.js';
import { MetricFeeds } from './metric-feeds.js';
import { PerformanceMonitor } from './performance-monitor.js';
import { PrometheusController } from './prometheus.controller.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { SystemEvents } from './system-events.js';
import { initTracing } from './tracing.js';
import { WorkerMetricsServer } from './worker-metrics-server.js';

@Injectable()
class Tracing implements OnApplicationShutdown {
  private readonly provider: NodeTracerProvider;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.provider = initTracing(config);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
  }
}

/** Logs, traces, Prometheus metrics, health and the platform's own system events. */
@Global()
@Module({})
export class ObservabilityModule implements NestModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false }), TypeOrmModule.forFeature([Delivery, Webhook])],
      controllers: hasApi(config) ? [HealthController, PrometheusController, EventMetricsController] : [],
      providers: [
        AppLogger,
        DataPathLogger,
        Tracing,
        PrometheusMetrics,
        MetricFeeds,
        SystemEvents,
        HealthService,
        InternalErrorReporter,
        EventMetricsService,
        PerformanceMonitor,
        ...(hasApi(config) ? [] : [WorkerMetricsServer]),
      ],
      exports: [AppLogger, PrometheusMetrics, SystemEvents],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpObservabilityMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
