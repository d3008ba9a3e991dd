import type { MqttClient } from 'mqtt';
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

const PER_MESSAGE = ['topic', 'qos'];

export const mqttScheme: SchemeSpec = {
  transport: 'mqtt',
  schemes: ['mqtt:', 'mqtts:'],
  validate(url: URL): UrlProblem[] {
    const problems = baseProblems(url, ['topic']);
    const topic = url.searchParams.get('topic');
    if (topic) {
      problems.push(...templateProblems('url.topic', topic));
      if (/[+#\0]/.test(topic.replace(/\{[^{}]*\}/g, 'x')))
        problems.push({ field: 'url.topic', message: 'a publish topic has no wildcards ("+", "#")' });
    }
    const qos = url.searchParams.get('qos');
    if (qos !== null && !['0', '1', '2'].includes(qos)) problems.push({ field: 'url.qos', message: 'must be 0, 1 or 2' });
    return problems;
  },
};

/** Topic levels: no wildcards, NUL or "/" from a value (a value is one level). */
const sanitizeTopic = (v: string) => v.replace(/[+#/\0]/g, '_');

/**
 * MQTT 5: a publish with the signature headers as user properties (content type application/json); success = the
 * PUBACK (QoS 1, the default), PUBCOMP (QoS 2) or the write (QoS 0). One client per broker and credentials, no automatic
 * reconnection: a closed client is replaced on the next send.
 */
export class MqttDestination implements Destination {
  private readonly clients = new Connections<MqttClient>(async (c) => {
    await c.endAsync(true).catch(() => undefined);
  });

  constructor(private readonly allowPrivate: boolean) {}

  private async connect(key: string, url: URL, timeoutMs: number): Promise<MqttClient> {
    const mqtt = await import('mqtt');
    const address = await connectAddress(url, this.allowPrivate);
    const tls = url.protocol === 'mqtts:';
    const client = await mqtt.connectAsync({
      host: address,
      port: url.port ? Number(url.port) : tls ? 8883 : 1883,
      protocol: tls ? 'mqtts' : 'mqtt',
      ...(tls ? { servername: url.hostname } : {}),
      protocolVersion: 5,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      clientId: `humana-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
    });
    client.on('error', () => undefined);
    client.on('close', () => this.clients.drop(key, client));
    return client;
  }

  private readonly channel: Channel<MqttClient> = {
    perMessage: PER_MESSAGE,
    address: { param: 'topic', sanitize: sanitizeTopic },
    connections: this.clients,
    connect: (key, url, timeoutMs) => this.connect(key, url, timeoutMs),
  };

  send(req: SendRequest): Promise<SendResult> {
    return sendThrough(req, this.channel, async (client, topic, url, key) => {
      const qos = Number(url.searchParams.get('qos') ?? 1) as 0 | 1 | 2;
      if (!client.connected) {
        this.clients.drop(key, client);
        throw Object.assign(new Error('MQTT connection closed'), { code: 'ECONNRESET' });
      }
      const packet = await withTimeout(
        client.publishAsync(topic, req.body, {
          qos,
          properties: { userProperties: messageHeaders(req.headers), contentType: 'application/json', payloadFormatIndicator: true },
        }),
        req.timeoutMs,
        qos ? 'waiting for the PUBACK' : 'publishing',
      );
      const reason = reasonOf(packet);
      return `${qos === 1 ? 'PUBACK' : qos === 2 ? 'PUBCOMP' : 'sent (QoS 0)'} on ${topic}${reason ? ` (reason ${reason})` : ''}`;
    });
  }

  close(): Promise<void> {
    return this.clients.closeAll();
  }
}

const reasonOf = (packet: unknown): number | undefined => (packet as { reasonCode?: number } | undefined)?.reasonCode;
