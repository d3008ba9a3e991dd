import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { HttpSender, type HttpRequest, type HttpResult } from './http-sender.js';

/** One way of getting a signed message to a receiver, chosen by the URL's scheme. */
export interface Destination {
  send(req: HttpRequest): Promise<HttpResult>;
  close(): Promise<void>;
}

/** The destinations this process can deliver to, by URL scheme; one connection pool per destination per process. */
@Injectable()
export class Destinations implements OnApplicationShutdown {
  private readonly byScheme = new Map<string, Destination>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const http = new HttpSender(config.allowPrivateWebhookUrls);
    this.byScheme.set('http:', http);
    this.byScheme.set('https:', http);
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
