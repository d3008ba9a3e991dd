import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Destination, SchemeSpec, SendRequest, SendResult, UrlProblem } from './destination.js';
import {
  BrokerError,
  connectAddress,
  Connections,
  baseProblems,
  messageHeaders,
  messageIdOf,
  sendThrough,
  templateProblems,
  withTimeout,
  type Channel,
} from './message.js';

const PER_MESSAGE = ['exchange', 'routingKey'];

export const amqpScheme: SchemeSpec = {
  transport: 'amqp',
  schemes: ['amqp:', 'amqps:'],
  validate(url: URL): UrlProblem[] {
    const problems = baseProblems(url, PER_MESSAGE, ['exchange']);
    const exchange = url.searchParams.get('exchange') ?? '';
    if (exchange.length > 255) problems.push({ field: 'url.exchange', message: 'at most 255 characters' });
    const key = url.searchParams.get('routingKey');
    if (key) {
      problems.push(...templateProblems('url.routingKey', key));
      if (key.length > 255) problems.push({ field: 'url.routingKey', message: 'at most 255 characters' });
    }
    return problems;
  },
};

/** Routing key words: letters, digits, `_ - : .`; anything else becomes `_`. */
const sanitizeKey = (v: string) => v.replace(/[^A-Za-z0-9_.:-]/g, '_');

interface Link {
  model: ChannelModel;
  channel: ConfirmChannel;
  /** Delivery ids of messages the broker returned as unroutable (a return arrives before its confirm). */
  returned: Set<string>;
  /** Why the broker closed the channel (amqplib only says "channel closed" to the pending confirms). */
  closeReason?: string;
}

/**
 * RabbitMQ: persistent publishes on a confirm channel (success = the broker's ack), `mandatory` so that a message no
 * queue is bound for comes back as a failure (retryable) instead of vanishing. messageId = the event id, the signature
 * headers as AMQP headers. One connection + confirm channel per broker URL and process; a channel the broker closed
 * (e.g. 404 NOT_FOUND for a missing exchange, retryable) or a lost connection is replaced on the next send.
 */
export class AmqpDestination implements Destination {
  private readonly links = new Connections<Link>(async (l) => {
    await l.model.close().catch(() => undefined);
  });

  constructor(private readonly allowPrivate: boolean) {}

  private async connect(key: string, url: URL, timeoutMs: number): Promise<Link> {
    const { connect } = await import('amqplib');
    const address = await connectAddress(url, this.allowPrivate);
    const tls = url.protocol === 'amqps:';
    const model = await connect(
      {
        protocol: tls ? 'amqps' : 'amqp',
        hostname: address,
        port: url.port ? Number(url.port) : tls ? 5671 : 5672,
        username: decodeURIComponent(url.username || 'guest'),
        password: decodeURIComponent(url.password || 'guest'),
        vhost: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/',
        heartbeat: 30,
      },
      { timeout: timeoutMs, ...(tls ? { servername: url.hostname } : {}) },
    );
    let link!: Link;
    const forget = () => this.links.drop(key, link);
    model.on('error', () => undefined);
    model.on('close', forget);
    try {
      const channel = await model.createConfirmChannel();
      link = { model, channel, returned: new Set() };
      channel.on('error', (e: Error) => (link.closeReason = e.message));
      channel.on('close', () => {
        forget();
        void model.close().catch(() => undefined);
      });
      channel.on('return', (msg: ConsumeMessage) => {
        const id = msg.properties.headers?.['x-humana-delivery'];
        if (typeof id === 'string') link.returned.add(id);
      });
      return link;
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
  }

  private readonly channel: Channel<Link> = {
    perMessage: PER_MESSAGE,
    address: { param: 'routingKey', sanitize: sanitizeKey },
    connections: this.links,
    connect: (key, url, timeoutMs) => this.connect(key, url, timeoutMs),
    failure: async (err, link) => {
      await new Promise((r) => setImmediate(r)); // the channel's 'error' (the reason) may trail its pending confirms
      return amqpError(err, link?.closeReason);
    },
  };

  send(req: SendRequest): Promise<SendResult> {
    return sendThrough(req, this.channel, async (link, rendered, url) => {
      const exchange = url.searchParams.get('exchange') ?? '';
      const routingKey = rendered.slice(0, 255);
      const headers = messageHeaders(req.headers);
      const deliveryId = headers['x-humana-delivery'] ?? '';
      link.returned.delete(deliveryId);
      const confirmed = new Promise<void>((resolve, reject) => {
        link.channel.publish(
          exchange,
          routingKey,
          Buffer.from(req.body),
          {
            persistent: true,
            mandatory: true,
            messageId: messageIdOf(req.headers),
            contentType: 'application/json',
            type: headers['x-humana-event'],
            timestamp: Math.floor(Date.now() / 1000),
            headers,
          },
          (err) => (err ? reject(err instanceof Error ? err : new BrokerError('nacked by the broker')) : resolve()),
        );
      });
      await withTimeout(confirmed, req.timeoutMs, 'waiting for the publisher confirm');
      if (link.returned.delete(deliveryId))
        throw new BrokerError(`unroutable: no queue is bound to exchange "${exchange || '(default)'}" for routing key "${routingKey}"`);
      return `confirmed by the broker (exchange "${exchange}", routing key "${routingKey}")`;
    });
  }

  close(): Promise<void> {
    return this.links.closeAll();
  }
}

/** A channel closed by the broker ("404 (NOT-FOUND) … no exchange") is a refusal, retryable. */
function amqpError(err: unknown, closeReason?: string): unknown {
  const msg = (err as Error)?.message === 'channel closed' && closeReason ? closeReason : ((err as Error)?.message ?? '');
  if (/NOT.FOUND|ACCESS.REFUSED|PRECONDITION|RESOURCE|nack/i.test(msg)) return new BrokerError(msg);
  if (/channel closed|Channel ended/i.test(msg)) return new BrokerError(`channel closed by the broker: ${msg}`);
  return err;
}
