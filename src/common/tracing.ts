import { randomFillSync } from 'node:crypto';
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const tracer = trace.getTracer('humana-events');

let provider: NodeTracerProvider | undefined;
let exporting = false;

/** True when spans are exported (an OTLP endpoint is configured): only then are span objects worth making. */
export function tracesExported(): boolean {
  return exporting;
}

/** Random bytes drawn a pool at a time: one getrandom call per 512 span ids instead of one per attempt. */
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;

function randomHex(bytes: number): string {
  if (poolUsed + bytes > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  poolUsed += bytes;
  return pool.toString('hex', poolUsed - bytes, poolUsed);
}

const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/;

/**
 * A `traceparent` for a new child of `parent` (or of a new trace) without any span object: the hot path's header when
 * nothing exports traces. Same format and ids as the SDK's (W3C trace context, sampled flag kept from the parent).
 */
export function childTraceparent(parent?: string): string {
  const m = parent ? TRACEPARENT.exec(parent) : null;
  const traceId = m ? m[1] : randomHex(16);
  return `00-${traceId}-${randomHex(8)}-${m ? m[2] : '01'}`;
}

/**
 * Registers the process-wide tracer provider once (the OpenTelemetry API is a process global, so several apps in one
 * process share the first configuration). Spans always get ids, so `traceparent` reaches webhook receivers. Only with
 * an OTLP endpoint are spans exported and the async context tracked (Node 20's AsyncLocalStorage costs every promise
 * a hook, measured at ~15 % of a publish): that is also when a publish joins the caller's own `traceparent`.
 */
export function initTracing(opts: { serviceName: string; otlpEndpoint?: string }): NodeTracerProvider {
  if (provider) return provider;
  const spanProcessors = opts.otlpEndpoint
    ? [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }), {
          scheduledDelayMillis: 1000,
        }),
      ]
    : [];
  provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': opts.serviceName }), spanProcessors });
  provider.register(opts.otlpEndpoint ? {} : { contextManager: null });
  exporting = !!opts.otlpEndpoint;
  return provider;
}

/**
 * Runs fn in a new span, child of `parent` (the active context by default); fn gets the span's context explicitly,
 * since without context tracking nothing else carries it. Ends the span and records failures.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span, ctx: Context) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer.startSpan(name, { attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  return context.with(ctx, async () => {
    try {
      return await fn(span, ctx);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The W3C `traceparent` of the span in `ctx` (undefined when there is none). */
export function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The context a stored or received `traceparent` (and optional `tracestate`) describes. */
export function contextFromHeaders(headers: { traceparent?: string; tracestate?: string }): Context {
  return headers.traceparent ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
}
