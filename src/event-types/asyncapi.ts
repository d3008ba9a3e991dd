/**
 * AsyncAPI 3.0 document generated from the event catalog (built-in types plus, with an API key, the organization's
 * own): the SSE stream, the raw WebSocket protocol (src/realtime/ws-streams.ts, stream-commands.ts) and webhook
 * payloads with their headers (src/delivery/delivery-executor.ts). A pure function: the controller supplies the types.
 */

export interface CatalogEntry {
  type: string;
  description: string;
  /** JSON Schema of the event's `data` (draft 2020-12). */
  schema: Record<string, unknown>;
  builtIn: boolean;
  version: number;
  examples?: Record<string, unknown>[];
}

export interface AsyncApiOptions {
  /** `host[:port]` the document names as the server. */
  host: string;
  /** `https` or `http`. */
  scheme: string;
  version: string;
}

type Json = Record<string, unknown>;

/** Component keys allow `[A-Za-z0-9._-]`; type names already fit. */
const key = (type: string) => type.replace(/[^A-Za-z0-9._-]/g, '_');

/** A copy of a schema living at `#/components/schemas/<k>`: its internal refs re-rooted there, `$schema` dropped. */
function rehome(schema: unknown, k: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => rehome(s, k));
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [name, v] of Object.entries(schema as Json)) {
    if (name === '$schema') continue;
    if ((name === '$ref' || name === '$dynamicRef') && typeof v === 'string' && v.startsWith('#'))
      out[name] = `#/components/schemas/${k}${v.slice(1)}`;
    else out[name] = rehome(v, k);
  }
  return out;
}

const str = (description: string, extra: Json = {}): Json => ({ type: 'string', description, ...extra });
const ref = (pointer: string): Json => ({ $ref: pointer });

const WEBHOOK_HEADERS: Json = {
  type: 'object',
  required: [
    'Content-Type',
    'X-Humana-Event',
    'X-Humana-Delivery',
    'X-Humana-Timestamp',
    'X-Humana-Signature',
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
  ],
  properties: {
    'Content-Type': str('Always application/json', { const: 'application/json' }),
    'User-Agent': str('HumanaEvents-Webhooks/1.0 (a webhook may set its own)'),
    'X-Humana-Event': str('The event type, or "batch" for a batch delivery'),
    'X-Humana-Delivery': str('The delivery id (del_…), the same on every attempt'),
    'X-Humana-Timestamp': str('Unix seconds when this attempt was signed'),
    'X-Humana-Signature': str(
      'Lowercase hex HMAC-SHA256 of `${X-Humana-Timestamp}.${body}` with the webhook secret (the seed verifyWebhook)',
    ),
    'webhook-id': str('Standard Webhooks message id: the event id (evt_…), or the delivery id for a batch; de-duplicate on it'),
    'webhook-timestamp': str('Standard Webhooks timestamp (Unix seconds)'),
    'webhook-signature': str('Standard Webhooks signatures: space-separated `v1,<base64>` of `${webhook-id}.${webhook-timestamp}.${body}`'),
    traceparent: str('W3C trace context of the publish, when tracing is on'),
  },
};

const SUBSCRIBE_FILTER: Json = {
  type: 'object',
  additionalProperties: false,
  properties: {
    events: { type: 'array', minItems: 1, maxItems: 100, items: str('An event type, "category.*" or "*"') },
    companions: { type: 'array', minItems: 1, maxItems: 100, items: str('A companionId, exact or with * wildcards') },
    userId: str('A userId, exact or with * wildcards'),
    lastEventId: str('Resume: replay what this subscription missed after this event id (evt_…)'),
  },
};

function clientMessage(type: string, summary: string, payload: Json, payloadRequired: boolean): Json {
  return {
    name: type,
    summary,
    payload: {
      type: 'object',
      required: payloadRequired ? ['type', 'payload'] : ['type'],
      properties: { type: { const: type }, requestId: str('Echoed in the answer (ack, pong or error)', { maxLength: 128 }), payload },
    },
  };
}

function serverMessage(type: string, summary: string, payload: Json): Json {
  return {
    name: type,
    summary,
    payload: {
      type: 'object',
      required: ['type', 'payload'],
      properties: { type: { const: type }, requestId: str('The requestId of the command answered'), payload },
    },
  };
}

export function buildAsyncApi(types: readonly CatalogEntry[], o: AsyncApiOptions): Json {
  const schemas: Json = {};
  const messages: Json = {};
  const sseMessages: Json = {};
  const webhookMessages: Json = {};
  const wsEventVariants: Json[] = [];
  const envelopeVariants: Json[] = [];

  for (const t of types) {
    const k = key(t.type);
    schemas[`data.${k}`] = rehome(t.schema, `data.${k}`);
    const data = ref(`#/components/schemas/data.${k}`);
    schemas[`envelope.${k}`] = {
      type: 'object',
      required: ['id', 'type', 'organizationId', 'timestamp', 'data'],
      properties: {
        id: str('Event id (evt_…)'),
        type: { type: 'string', const: t.type },
        organizationId: str('The publishing organization'),
        timestamp: str('When the event entered the log', { format: 'date-time' }),
        data,
      },
    };
    envelopeVariants.push(ref(`#/components/schemas/envelope.${k}`));
    wsEventVariants.push({
      type: 'object',
      required: ['eventType', 'eventId', 'data'],
      properties: { eventType: { type: 'string', const: t.type }, eventId: str('Event id (evt_…)'), data },
    });
    const origin = t.builtIn ? 'Built-in type.' : `Custom type of this organization (schema version ${t.version}).`;
    messages[`sse.${k}`] = {
      name: t.type,
      title: t.type,
      summary: t.description,
      description: `${origin} SSE frame \`event: ${t.type}\`, \`id: <event id>\`, \`data: <JSON below>\`.`,
      payload: data,
      ...(t.examples?.length ? { examples: t.examples.slice(0, 3).map((payload) => ({ payload })) } : {}),
    };
    sseMessages[t.type] = ref(`#/components/messages/sse.${k}`);
    messages[`webhook.${k}`] = {
      name: t.type,
      title: `${t.type} (webhook)`,
      summary: t.description,
      description: `${origin} POSTed to the webhook URL (unless the webhook has a transform).`,
      contentType: 'application/json',
      headers: WEBHOOK_HEADERS,
      payload: ref(`#/components/schemas/envelope.${k}`),
    };
    webhookMessages[t.type] = ref(`#/components/messages/webhook.${k}`);
  }

  messages['sse.heartbeat'] = {
    name: 'heartbeat',
    summary: 'Sent on every idle interval (HEARTBEAT_INTERVAL_MS); no `id:` line.',
    payload: { type: 'object', required: ['timestamp'], properties: { timestamp: str('Server time', { format: 'date-time' }) } },
  };
  sseMessages.heartbeat = ref('#/components/messages/sse.heartbeat');
  messages['sse.error'] = {
    name: 'error',
    summary: 'The last frame before the server ends the stream (slow consumer, failed resume, shutdown); reconnect with Last-Event-ID.',
    payload: {
      type: 'object',
      required: ['code', 'message', 'lastEventId'],
      properties: {
        code: { type: 'string', enum: ['slow_consumer', 'resume_failed', 'resume_busy', 'shutting_down'] },
        message: { type: 'string' },
        lastEventId: { type: ['string', 'null'] },
      },
    },
  };
  sseMessages.error = ref('#/components/messages/sse.error');
  messages['webhook.batch'] = {
    name: 'batch',
    summary: 'A batch delivery (webhooks with `batch`): X-Humana-Event is "batch", webhook-id the delivery id.',
    contentType: 'application/json',
    headers: WEBHOOK_HEADERS,
    payload: { type: 'object', required: ['events'], properties: { events: { type: 'array', items: { oneOf: envelopeVariants } } } },
  };
  webhookMessages.batch = ref('#/components/messages/webhook.batch');

  const ws: Record<string, Json> = {
    subscribe: clientMessage(
      'subscribe',
      'Adds a subscription; fields left out fall back to the connection query. Answered by ack {subscriptionId}.',
      SUBSCRIBE_FILTER,
      false,
    ),
    unsubscribe: clientMessage(
      'unsubscribe',
      'Removes one subscription, or all without subscriptionId. Answered by ack {unsubscribed}.',
      { type: 'object', additionalProperties: false, properties: { subscriptionId: str('As returned in the subscribe ack') } },
      false,
    ),
    ping: clientMessage('ping', 'Answered by pong {timestamp}.', {}, false),
    chat: clientMessage(
      'chat',
      'Publishes a message.sent (needs events:write). Answered by ack {messageId, eventId}.',
      {
        type: 'object',
        additionalProperties: false,
        required: ['companionId', 'userId', 'content'],
        properties: {
          companionId: { type: 'string' },
          userId: { type: 'string' },
          content: { type: 'string', maxLength: 65536 },
          type: { type: 'string', enum: ['text', 'image', 'file', 'structured'] },
        },
      },
      true,
    ),
    event: {
      name: 'event',
      summary: 'An event matching one of the connection subscriptions (no requestId).',
      payload: {
        type: 'object',
        required: ['type', 'payload'],
        properties: { type: { const: 'event' }, payload: { oneOf: wsEventVariants } },
      },
    },
    ack: serverMessage('ack', 'Success answer to subscribe, unsubscribe or chat.', {
      oneOf: [
        { type: 'object', required: ['subscriptionId'], properties: { subscriptionId: { type: 'string' } } },
        { type: 'object', required: ['unsubscribed'], properties: { unsubscribed: { type: 'array', items: { type: 'string' } } } },
        { type: 'object', required: ['messageId', 'eventId'], properties: { messageId: { type: 'string' }, eventId: { type: 'string' } } },
      ],
    }),
    error: serverMessage('error', 'A refused command (requestId echoed when the frame had one).', {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: str('e.g. malformed_json, invalid_message, unknown_message_type, validation_error, forbidden, too_many_subscriptions'),
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
      },
    }),
    pong: serverMessage('pong', 'Answer to ping.', {
      type: 'object',
      required: ['timestamp'],
      properties: { timestamp: str('Server time', { format: 'date-time' }) },
    }),
  };
  const wsMessages: Json = {};
  for (const [name, m] of Object.entries(ws)) {
    messages[`ws.${name}`] = m;
    wsMessages[name] = ref(`#/components/messages/ws.${name}`);
  }

  const wsScheme = o.scheme === 'https' ? 'wss' : 'ws';
  const filterParams =
    'Query: `events` (types or patterns, comma-separated), `companions`, `userId`, `organizationId` (must be the key organization), `lastEventId`, `access_token` (browsers).';
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Humana Events',
      version: o.version,
      description:
        'Webhooks and real-time event streams. Every event type of the catalog is one SSE message, one variant of the WebSocket `event` ' +
        'message and one webhook message. GET /api/v1/event-types has the same schemas.',
    },
    defaultContentType: 'application/json',
    servers: {
      api: {
        host: o.host,
        protocol: o.scheme,
        description: 'The HTTP API (SSE stream)',
        security: [ref('#/components/securitySchemes/bearer'), ref('#/components/securitySchemes/accessToken')],
      },
      websocket: {
        host: o.host,
        protocol: wsScheme,
        description: 'The raw WebSocket endpoint',
        security: [ref('#/components/securitySchemes/bearer'), ref('#/components/securitySchemes/accessToken')],
      },
      receiver: {
        host: 'your-app.example.com',
        protocol: 'https',
        description: 'Your webhook endpoint: the `url` of a webhook (POST /api/v1/webhooks)',
      },
    },
    channels: {
      eventStream: {
        address: '/api/v1/events/stream',
        title: 'Server-Sent Events stream',
        description: `GET with Accept: text/event-stream; resume with the Last-Event-ID header. ${filterParams}`,
        servers: [ref('#/servers/api')],
        messages: sseMessages,
      },
      websocket: {
        address: '/api/v1/ws',
        title: 'Raw WebSocket protocol',
        description: `Client frames {type, requestId, payload}: subscribe | unsubscribe | ping | chat; server frames: event | ack | error | pong. ${filterParams}`,
        servers: [ref('#/servers/websocket')],
        messages: wsMessages,
      },
      webhook: {
        address: null,
        title: 'Webhook deliveries',
        description: 'POST to each matching webhook URL; any 2xx acknowledges, 408/429/5xx and network errors are retried.',
        servers: [ref('#/servers/receiver')],
        messages: webhookMessages,
      },
    },
    operations: {
      receiveStreamEvents: {
        action: 'receive',
        title: 'Receive events over SSE',
        channel: ref('#/channels/eventStream'),
        messages: Object.keys(sseMessages).map((m) => ref(`#/channels/eventStream/messages/${m}`)),
      },
      sendWebSocketCommands: {
        action: 'send',
        title: 'Send WebSocket commands',
        channel: ref('#/channels/websocket'),
        messages: ['subscribe', 'unsubscribe', 'ping', 'chat'].map((m) => ref(`#/channels/websocket/messages/${m}`)),
      },
      receiveWebSocketMessages: {
        action: 'receive',
        title: 'Receive WebSocket events and answers',
        channel: ref('#/channels/websocket'),
        messages: ['event', 'ack', 'error', 'pong'].map((m) => ref(`#/channels/websocket/messages/${m}`)),
      },
      receiveWebhooks: {
        action: 'receive',
        title: 'Receive webhook deliveries (your endpoint)',
        channel: ref('#/channels/webhook'),
        messages: Object.keys(webhookMessages).map((m) => ref(`#/channels/webhook/messages/${m}`)),
      },
    },
    components: {
      schemas,
      messages,
      securitySchemes: {
        bearer: { type: 'httpApiKey', name: 'Authorization', in: 'header', description: '`Authorization: Bearer <API key>`' },
        accessToken: {
          type: 'httpApiKey',
          name: 'access_token',
          in: 'query',
          description: 'The API key as `?access_token=` (browsers: EventSource and WebSocket cannot set headers)',
        },
      },
    },
  };
}
