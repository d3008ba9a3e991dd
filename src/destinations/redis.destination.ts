import { Redis } from 'ioredis';
import type { Destination, SchemeSpec, SendRequest, SendResult, UrlProblem } from './destination.js';
import {
  connectAddress,
  Connections,
  baseProblems,
  messageHeaders,
  sendThrough,
  templateProblems,
  withTimeout,
  type Channel,
} from './message.js';

const PER_MESSAGE = ['stream', 'maxLen'];

export const redisScheme: SchemeSpec = {
  transport: 'redis',
  schemes: ['redis:', 'rediss:'],
  validate(url: URL): UrlProblem[] {
    const problems = baseProblems(url, ['stream']);
    const stream = url.searchParams.get('stream');
    if (stream) problems.push(...templateProblems('url.stream', stream));
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d{1,2}$/.test(db)) problems.push({ field: 'url', message: 'the path is the database number (/0 … /15)' });
    const maxLen = url.searchParams.get('maxLen');
    if (maxLen !== null && !/^[1-9]\d{0,9}$/.test(maxLen)) problems.push({ field: 'url.maxLen', message: 'a positive integer' });
    return problems;
  },
};

/** Stream key values: no whitespace or control characters. */
// eslint-disable-next-line no-control-regex
const sanitizeKey = (v: string) => v.replace(/[\s\x00-\x1f]/g, '_');

/**
 * Redis Streams (another Redis than ours): XADD with the body under `body` and each signature header as its own field
 * (`MAXLEN ~ n` with `maxLen`); success = the entry id. One connection per server, database and credentials, no
 * offline queue or automatic reconnection: a closed connection is replaced on the next send.
 */
export class RedisDestination implements Destination {
  private readonly clients = new Connections<Redis>(async (r) => {
    r.disconnect();
  });

  constructor(private readonly allowPrivate: boolean) {}

  private async connect(key: string, url: URL, timeoutMs: number): Promise<Redis> {
    const address = await connectAddress(url, this.allowPrivate);
    const tls = url.protocol === 'rediss:';
    const r = new Redis({
      host: address,
      port: url.port ? Number(url.port) : 6379,
      db: Number(url.pathname.replace(/^\//, '') || 0),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      ...(tls ? { tls: { servername: url.hostname } } : {}),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
      connectionName: 'humana-events-destination',
    });
    r.on('error', () => undefined);
    r.on('end', () => this.clients.drop(key, r));
    try {
      await r.connect();
    } catch (err) {
      r.disconnect();
      throw err;
    }
    return r;
  }

  private readonly channel: Channel<Redis> = {
    perMessage: PER_MESSAGE,
    address: { param: 'stream', sanitize: sanitizeKey },
    connections: this.clients,
    connect: (key, url, timeoutMs) => this.connect(key, url, timeoutMs),
  };

  send(req: SendRequest): Promise<SendResult> {
    return sendThrough(req, this.channel, async (r, stream, url) => {
      const maxLen = url.searchParams.get('maxLen');
      const fields = ['body', req.body, 'content-type', 'application/json', ...Object.entries(messageHeaders(req.headers)).flat()];
      const trim = maxLen ? ['MAXLEN', '~', maxLen] : [];
      const id = await withTimeout(r.call('XADD', stream, ...trim, '*', ...fields) as Promise<string>, req.timeoutMs, 'XADD');
      return `XADD ${stream} ${id}`;
    });
  }

  close(): Promise<void> {
    return this.clients.closeAll();
  }
}
