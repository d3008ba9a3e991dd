import type { EventEnvelope } from '../events/envelope.js';

/**
 * Why a send failed. `timeout`, `connection` (unreachable, connection lost) and `broker` (the broker refused: missing
 * exchange/queue, nack, unroutable, full) are retryable; `blocked` (SSRF rule) and `rejected` (a permanent refusal,
 * e.g. SMTP 5xx) are not.
 */
export type SendFailureKind = 'timeout' | 'connection' | 'blocked' | 'broker' | 'rejected';

export type Transport = 'http' | 'amqp' | 'nats' | 'mqtt' | 'redis' | 'smtp';

/** One attempt's message: the body and the headers the executor signed. */
export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The event (the first of a batch): placeholders in subjects/topics/keys and e-mail subjects are rendered from it. */
  event?: EventEnvelope;
}

/**
 * What came back. HTTP: the response. Brokers: success is a synthetic `statusCode: 200` once the broker acknowledged
 * (publisher confirm, JetStream ack or flush, PUBACK, XADD reply, SMTP 250), with the acknowledgment in `body`;
 * a failure is `statusCode: null` with `error` and `errorKind`.
 */
export interface SendResult {
  /** null when no response arrived (timeout, connection error, blocked address, broker refusal). */
  statusCode: number | null;
  durationMs: number;
  headers: Record<string, string | string[] | undefined>;
  /** First 2 KiB of the body, UTF-8 (brokers: the acknowledgment). */
  body: string;
  error: string | null;
  errorKind: SendFailureKind | null;
}

/** One way of getting a signed message to a receiver, chosen by the URL's scheme. */
export interface Destination {
  send(req: SendRequest): Promise<SendResult>;
  close(): Promise<void>;
}

/** A problem with a destination URL, reported as a 400 naming the field (`url` or `url.<parameter>`). */
export interface UrlProblem {
  field: string;
  message: string;
}

/** What a scheme accepts; pure (no connection), used at save time by the webhook schema. */
export interface SchemeSpec {
  transport: Transport;
  schemes: string[];
  validate(url: URL): UrlProblem[];
}
