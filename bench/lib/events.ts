/** The event every scenario publishes: a seed `message.sent` whose metadata carries the time it was scheduled. */
export interface BenchEventInput {
  type: 'message.sent';
  data: {
    messageId: string;
    companionId: string;
    userId: string;
    content: string;
    type: 'text';
    metadata: { scheduledMs: number; seq: number };
  };
}

export function benchEvent(seq: number, scheduledMs: number, companionId: string): BenchEventInput {
  return {
    type: 'message.sent',
    data: {
      messageId: `msg-${seq}`,
      companionId,
      userId: `user-${seq % 1000}`,
      content: 'Hello, how can I help you today?',
      type: 'text',
      metadata: { scheduledMs, seq },
    },
  };
}

/** Reads the scheduled time back from a delivered envelope, SSE data or WS payload (`data.metadata.scheduledMs`). */
export function scheduledMsOf(data: unknown): number | undefined {
  const meta = (data as { metadata?: { scheduledMs?: unknown } } | undefined)?.metadata;
  return typeof meta?.scheduledMs === 'number' ? meta.scheduledMs : undefined;
}
