import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { AuthModule } from '../auth/auth.module.js';
import { APP_CONFIG, hasApi, type AppConfig } from '../config/config.js';
import { Delivery } from '../delivery/delivery.entity.js';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { EventsModule } from '../events/events.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { SchedulingModule } from '../scheduling/scheduling.module.js';
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
import { initTracing } from '../common/tracing.js';
import { WorkerMetricsServer } from './worker-metrics-server.js';
import { perConfig } from '../config/per-config.js';

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
@Module({})
export class ObservabilityModule implements NestModule {
  static readonly forRoot = perConfig((config: AppConfig): DynamicModule => {
    return {
      module: ObservabilityModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        TypeOrmModule.forFeature([Delivery, Webhook]),
        SchedulingModule,
        AuthModule.forRoot(config),
        EventsModule.forRoot(config),
        DeliveryModule.forRoot(config),
        RealtimeModule.forRoot(config),
      ],
      controllers: hasApi(config) ? [HealthController, PrometheusController, EventMetricsController] : [],
      providers: [
        AppLogger,
        DataPathLogger,
        Tracing,
        PrometheusMetrics,
        MetricFeeds,
        HealthService,
        InternalErrorReporter,
        EventMetricsService,
        PerformanceMonitor,
        ...(hasApi(config) ? [] : [WorkerMetricsServer]),
      ],
      exports: [AppLogger],
    };
  });

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpObservabilityMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
