import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const tracer = trace.getTracer('humana-events');

let provider: NodeTracerProvider | undefined;

/**
 * Registers the process-wide tracer provider once (the OpenTelemetry API is a process global, so several apps in one
 * process share the first configuration). Spans always get ids, so `traceparent` propagates to webhook receivers;
 * they are exported only when an OTLP endpoint is configured.
 */
export function initTracing(opts: { serviceName: string; otlpEndpoint?: string }): NodeTracerProvider {
  if (provider) return provider;
  const spanProcessors = opts.otlpEndpoint
    ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }), { scheduledDelayMillis: 1000 })]
    : [];
  provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': opts.serviceName }), spanProcessors });
  provider.register();
  return provider;
}

/** Runs fn inside a new active span (child of the active context or of `parent`), ending it and recording failures. */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The W3C `traceparent` of the active span (undefined when there is none). */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The context a stored or received `traceparent` (and optional `tracestate`) describes. */
export function contextFromHeaders(headers: { traceparent?: string; tracestate?: string }): Context {
  return headers.traceparent ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
}
