import type { NatsConnection, JetStreamManager, TlsOptions } from 'nats';
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

const PER_MESSAGE = ['subject'];
/** How long "which stream captures this subject" is remembered. */
const STREAM_CACHE_MS = 5_000;

export const natsScheme: SchemeSpec = {
  transport: 'nats',
  schemes: ['nats:'],
  validate(url: URL): UrlProblem[] {
    const problems = baseProblems(url, PER_MESSAGE);
    const subject = url.searchParams.get('subject');
    if (subject) {
      problems.push(...templateProblems('url.subject', subject));
      const literal = subject.replace(/\{[^{}]*\}/g, 'x');
      if (/[\s*>]/.test(literal))
        problems.push({ field: 'url.subject', message: 'a publish subject has no spaces or wildcards ("*", ">")' });
      else if (literal.split('.').some((t) => t === ''))
        problems.push({ field: 'url.subject', message: 'empty subject token ("a..b", leading or trailing ".")' });
    }
    const tls = url.searchParams.get('tls');
    if (tls !== null && tls !== 'true' && tls !== 'false') problems.push({ field: 'url.tls', message: 'must be true or false' });
    return problems;
  },
};

/** Subject tokens: no whitespace or wildcards; a data value is one token ("." becomes "_"), `{type}` keeps its two. */
const sanitizeSubject = (v: string, placeholder: string) => v.replace(placeholder === 'type' ? /[\s*>\0]/g : /[\s*>.\0]/g, '_');

interface Link {
  nc: NatsConnection;
  jsm: JetStreamManager | null;
  /** subject → the stream capturing it (null: none, core publish) and until when that is trusted. */
  streams: Map<string, { stream: string | null; until: number }>;
}

/**
 * NATS: when a JetStream stream captures the subject, a JetStream publish with `Nats-Msg-Id` = the event id (JetStream
 * de-duplicates a retried attempt within the stream's duplicate window; success = the stream's ack); otherwise a core
 * publish and a flush (success = the server has it). The signature headers are NATS headers. One connection per server
 * and credentials; it does not reconnect by itself: a closed connection is replaced on the next send.
 */
export class NatsDestination implements Destination {
  private readonly links = new Connections<Link>(async (l) => {
    await l.nc.close().catch(() => undefined);
  });

  constructor(private readonly allowPrivate: boolean) {}

  private async connect(key: string, url: URL, timeoutMs: number): Promise<Link> {
    const { connect } = await import('nats');
    const address = await connectAddress(url, this.allowPrivate);
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    const host = address.includes(':') ? `[${address}]` : address;
    const nc = await connect({
      servers: `${host}:${url.port || 4222}`,
      ...(user && pass ? { user, pass } : user ? { token: user } : {}),
      // A server that requires TLS is upgraded to after its INFO either way; `tls=true` insists on TLS and checks the
      // certificate against the URL's host name (the connection itself goes to the address the SSRF rule passed); the
      // client hands these options on to tls.connect, whose `servername` its type does not name.
      ...(url.searchParams.get('tls') === 'true' ? { tls: { servername: url.hostname } as TlsOptions } : {}),
      timeout: timeoutMs,
      reconnect: false,
      name: 'humana-events',
    });
    // JetStream not enabled (or not for this account): core publishes only.
    const jsm = await nc.jetstreamManager({ timeout: timeoutMs }).catch(() => null);
    const link: Link = { nc, jsm, streams: new Map() };
    void nc.closed().then(() => this.links.drop(key, link));
    return link;
  }

  private async streamFor(link: Link, subject: string): Promise<string | null> {
    if (!link.jsm) return null;
    const cached = link.streams.get(subject);
    if (cached && cached.until > Date.now()) return cached.stream;
    let stream: string | null = null;
    try {
      stream = await link.jsm.streams.find(subject);
    } catch (err) {
      if (!/no stream matches/i.test((err as Error).message)) throw err;
    }
    if (link.streams.size > 10_000) link.streams.clear();
    link.streams.set(subject, { stream, until: Date.now() + STREAM_CACHE_MS });
    return stream;
  }

  private readonly channel: Channel<Link> = {
    perMessage: PER_MESSAGE,
    address: { param: 'subject', sanitize: sanitizeSubject },
    connections: this.links,
    connect: (key, url, timeoutMs) => this.connect(key, url, timeoutMs),
  };

  send(req: SendRequest): Promise<SendResult> {
    return sendThrough(req, this.channel, async (link, subject) => {
      const { headers: natsHeaders } = await import('nats');
      const h = natsHeaders();
      for (const [k, v] of Object.entries(messageHeaders(req.headers))) h.set(k, v);
      h.set('content-type', 'application/json');
      const data = Buffer.from(req.body);
      const stream = await withTimeout(this.streamFor(link, subject), req.timeoutMs, 'looking up the JetStream stream');
      if (stream) {
        let ack;
        try {
          ack = await link.nc.jetstream().publish(subject, data, { msgID: messageIdOf(req.headers), headers: h, timeout: req.timeoutMs });
        } catch (err) {
          const e = err as Error & { code?: string };
          if (e.code === '503' || /no responders/i.test(e.message)) link.streams.delete(subject);
          if (e.code === 'TIMEOUT' || /timeout/i.test(e.message)) throw err;
          throw new BrokerError(`JetStream refused the publish: ${e.message}`);
        }
        return `jetstream ack: stream ${ack.stream}, seq ${ack.seq}${ack.duplicate ? ', duplicate' : ''}`;
      }
      link.nc.publish(subject, data, { headers: h });
      await withTimeout(link.nc.flush(), req.timeoutMs, 'flushing');
      return `published on ${subject} (core NATS, flushed)`;
    });
  }

  close(): Promise<void> {
    return this.links.closeAll();
  }
}
