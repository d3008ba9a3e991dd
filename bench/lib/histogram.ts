import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** An HdrHistogram of latencies in microseconds (3 significant digits); travels between processes as compressed base64. */
export class Latency {
  private constructor(private readonly h: Histogram) {}

  static create(): Latency {
    return new Latency(build({ numberOfSignificantValueDigits: 3 }));
  }

  static decode(encoded: string): Latency {
    return new Latency(decodeFromCompressedBase64(encoded));
  }

  static merge(encoded: string[]): Latency {
    const all = Latency.create();
    for (const e of encoded) all.h.add(decodeFromCompressedBase64(e));
    return all;
  }

  record(ms: number, count = 1): void {
    this.h.recordValueWithCount(Math.max(1, Math.round(ms * 1000)), count);
  }

  get count(): number {
    return this.h.totalCount;
  }

  encode(): string {
    return encodeIntoCompressedBase64(this.h);
  }

  percentileMs(p: number): number {
    return this.h.totalCount ? round2(this.h.getValueAtPercentile(p) / 1000) : 0;
  }

  summary(): LatencySummary {
    return {
      p50Ms: this.percentileMs(50),
      p95Ms: this.percentileMs(95),
      p99Ms: this.percentileMs(99),
      maxMs: round2(this.h.maxValue / 1000),
    };
  }
}
