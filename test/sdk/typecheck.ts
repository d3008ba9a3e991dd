// Compile-time checks of the SDK's event typing: `npm run build` (tsc) fails if any `@ts-expect-error` is unused,
// i.e. if the generated EventDataMap stopped rejecting these. Never executed.
import { HumanaEvents, type Envelope, type StreamEvent } from '../../sdk/src/index.js';

export async function typeChecks(c: HumanaEvents): Promise<void> {
  await c.events.publish({
    type: 'message.sent',
    data: { messageId: 'm', companionId: 'c', userId: 'u', content: 'hi', type: 'text', metadata: {} },
  });
  // @ts-expect-error `content` is required for message.sent
  await c.events.publish({ type: 'message.sent', data: { messageId: 'm', companionId: 'c', userId: 'u', type: 'text', metadata: {} } });
  // prettier-ignore
  // @ts-expect-error `type` must be one of the enum values
  await c.events.publish({ type: 'message.sent', data: { messageId: 'm', companionId: 'c', userId: 'u', content: 'hi', type: 'video', metadata: {} } });
  // @ts-expect-error unknown event type
  await c.events.publish({ type: 'message.deleted', data: {} });
  // @ts-expect-error `severity` is required for error.occurred
  await c.events.publishBatch([{ type: 'error.occurred', data: { errorId: 'e', type: 'processing', message: 'x' } }]);
  // optional fields may be left out, extra fields pass (open objects)
  const env: Envelope<'error.occurred'> = await c.events.publish({
    type: 'error.occurred',
    data: { errorId: 'e', type: 'processing', message: 'x', severity: 'low', extra: 1 },
  });
  const sev: 'low' | 'medium' | 'high' | 'critical' = env.data.severity;
  void sev;
  for await (const ev of c.events.stream({ events: ['message.*'] })) {
    const e: StreamEvent = ev;
    if (e.type === 'message.sent') {
      const content: string = e.data.content; // narrowed by the discriminant
      void content;
    }
  }
}

/** An organization's own types, as `humana-events types` writes them (test/sdk/types.test.ts runs the real command). */
interface CustomEventDataMap {
  'order.created': { orderId: string; items: Array<{ sku: string; quantity: number }> };
}

export async function customTypeChecks(c: HumanaEvents<CustomEventDataMap>): Promise<void> {
  const env = await c.events.publish({ type: 'order.created', data: { orderId: 'o', items: [{ sku: 's', quantity: 1 }] } });
  const quantity: number = env.data.items[0].quantity;
  void quantity;
  // prettier-ignore
  // @ts-expect-error `quantity` is a number
  await c.events.publish({ type: 'order.created', data: { orderId: 'o', items: [{ sku: 's', quantity: '1' }] } });
  // @ts-expect-error `items` is required
  await c.events.publish({ type: 'order.created', data: { orderId: 'o' } });
  // @ts-expect-error built-ins stay typed beside custom types: `content` is required for message.sent
  await c.events.publish({ type: 'message.sent', data: { messageId: 'm', companionId: 'c', userId: 'u', type: 'text', metadata: {} } });
  // @ts-expect-error still no unknown types
  await c.events.publishBatch([{ type: 'order.shipped', data: {} }]);
  for await (const ev of c.events.history()) {
    if (ev.type === 'order.created') {
      const id: string = ev.data.orderId;
      void id;
    }
  }
}

/** The resource types are the API's response schemas (generated from the OpenAPI document): exact, not open. */
export async function resourceTypeChecks(c: HumanaEvents): Promise<void> {
  const w = await c.webhooks.get('wh_1');
  const state: 'healthy' | 'failing' | 'circuit_open' | 'disabled' = w.health.state;
  const perSecond: number | undefined = w.rateLimit?.perSecond;
  void [state, perSecond];
  // @ts-expect-error no such field on a webhook (the types carry no index signature)
  void w.signingSecret;
  const d = await c.webhooks.delivery('wh_1', 'del_1');
  const sequence: number | null = d.sequence;
  const variant: string | null = d.variant;
  void [sequence, variant];
  for await (const f of c.dlq.list()) {
    // @ts-expect-error a DLQ entry's event may be a batch: narrow first
    void f.event.type;
    if (!('events' in f.event)) void f.event.type;
  }
}
