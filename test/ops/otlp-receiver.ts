import { Receiver } from '../support/receiver.js';

export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

type OtlpTraces = {
  resourceSpans: { scopeSpans: { spans: (Omit<ExportedSpan, 'attributes'> & { attributes?: { key: string; value: OtlpValue }[] })[] }[] }[];
};

/** The spans of one OTLP/HTTP JSON export request. */
function spansOf(body: string): ExportedSpan[] {
  const doc = JSON.parse(body) as OtlpTraces;
  return doc.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => {
        const attributes = Object.fromEntries(
          (s.attributes ?? []).map(({ key, value }) => [
            key,
            value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue ?? '')),
          ]),
        );
        return { traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, attributes };
      }),
    ),
  );
}

/** A loopback OTLP/HTTP collector (JSON encoding, what @opentelemetry/exporter-trace-otlp-http sends): the shared receiver, read as spans. */
export async function startOtlpReceiver(): Promise<{ url: string; readonly spans: ExportedSpan[]; close(): Promise<void> }> {
  const rx = (await Receiver.start()).otherwise(() => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' }));
  return {
    url: rx.url,
    get spans() {
      return rx.at('/v1/traces').flatMap((r) => spansOf(r.body));
    },
    close: () => rx.close(),
  };
}
