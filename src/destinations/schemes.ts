import type { SchemeSpec, Transport, UrlProblem } from './destination.js';
import { amqpScheme } from './amqp.destination.js';
import { mqttScheme } from './mqtt.destination.js';
import { natsScheme } from './nats.destination.js';
import { redisScheme } from './redis.destination.js';
import { smtpScheme } from './smtp.destination.js';

const httpScheme: SchemeSpec = {
  transport: 'http',
  schemes: ['http:', 'https:'],
  validate: (url) => (url.hostname ? [] : [{ field: 'url', message: 'a host is required' }]),
};

/** Every scheme a webhook URL may use, and the transport it selects. */
export const SCHEMES: SchemeSpec[] = [httpScheme, amqpScheme, natsScheme, mqttScheme, redisScheme, smtpScheme];
const BY_SCHEME = new Map(SCHEMES.flatMap((s) => s.schemes.map((scheme) => [scheme, s] as const)));

/** The transport a URL's scheme selects (`http` for anything unknown, which validation refuses). */
export function transportOf(url: string): Transport {
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  return BY_SCHEME.get(scheme)?.transport ?? 'http';
}

/** Why a destination URL cannot be saved: an unknown scheme or the scheme's own rules (required parameters, placeholders). */
export function destinationUrlProblems(url: URL): UrlProblem[] {
  const spec = BY_SCHEME.get(url.protocol.toLowerCase());
  if (!spec) {
    const known = SCHEMES.flatMap((s) => s.schemes.map((x) => x.slice(0, -1))).join(', ');
    return [{ field: 'url', message: `scheme "${url.protocol.slice(0, -1)}" is not supported: use one of ${known}` }];
  }
  return spec.validate(url);
}
