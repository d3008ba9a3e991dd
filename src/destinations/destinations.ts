import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { AmqpDestination } from './amqp.destination.js';
import type { Destination } from './destination.js';
import { HttpSender } from './http-sender.js';
import { MqttDestination } from './mqtt.destination.js';
import { NatsDestination } from './nats.destination.js';
import { RedisDestination } from './redis.destination.js';
import { SmtpDestination } from './smtp.destination.js';

export type { Destination, SendRequest, SendResult } from './destination.js';

/**
 * The destinations this process can deliver to, by URL scheme; one connection (pool) per target per process, opened on
 * first use and closed on shutdown.
 */
@Injectable()
export class Destinations implements OnApplicationShutdown {
  private readonly byScheme = new Map<string, Destination>();

  /** Base of console links in formatted bodies (PUBLIC_URL). */
  readonly publicUrl: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.publicUrl = config.publicUrl;
    const http = new HttpSender(config.allowPrivateWebhookUrls);
    this.byScheme.set('http:', http);
    this.byScheme.set('https:', http);
    const allowPrivate = config.allowPrivateWebhookUrls;
    const each: [string[], Destination][] = [
      [['amqp:', 'amqps:'], new AmqpDestination(allowPrivate)],
      [['nats:'], new NatsDestination(allowPrivate)],
      [['mqtt:', 'mqtts:'], new MqttDestination(allowPrivate)],
      [['redis:', 'rediss:'], new RedisDestination(allowPrivate)],
      [['smtp:', 'smtps:'], new SmtpDestination(allowPrivate)],
    ];
    for (const [schemes, d] of each) for (const s of schemes) this.byScheme.set(s, d);
  }

  /** The destination for a webhook URL (validated at create time, so an unknown scheme is a bug). */
  for(url: string): Destination {
    const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
    const destination = this.byScheme.get(scheme);
    if (!destination) throw new Error(`no destination for scheme ${scheme}`);
    return destination;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...new Set(this.byScheme.values())].map((d) => d.close()));
  }
}
