#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HumanaEvents } from './client.js';
import { HumanaApiError, HumanaNetworkError } from './errors.js';
import { EVENT_TYPES, sampleData, type EventType } from './generated/catalog.js';
import { sample, typesModule, type JsonSchema } from './schema-types.js';
import { signatureHeaders } from './verify.js';
import type { StreamEvent } from './types.js';

const EXIT = { ok: 0, api: 1, usage: 2, network: 3 } as const;

class UsageError extends Error {}

const HELP = `humana-events — Humana Events from the command line

Usage: humana-events <command> [options]

Commands:
  listen --forward-to URL [--events a,b] [--companions a,b] [--secret whsec_…]
      Stream the organization's events and POST each one to URL, signed like a real delivery
      (X-Humana-Signature and Standard Webhooks headers) with a local secret printed at start.
  trigger <event-type> [--data JSON]     Publish a valid sample of the type (--data is merged over it);
      custom types use their first registered example, else a sample of their schema
  types [--out FILE] [--builtins]        Write TypeScript types of the organization's custom event types
      (and of the built-in ones with --builtins): \`new HumanaEvents<CustomEventDataMap>(…)\` checks them
  event-types list
  event-types create --file schema.json  Register a type; the file holds { name, description?, schema, examples? }
  tail [--events a,b] [--companions a,b] Print events as JSON lines
  webhooks list
  webhooks create --url URL --events a,b [--secret S] [--description D]
  webhooks test <id>
  dlq list [--webhook-id ID]
  dlq retry <id> | dlq retry --all

Options:
  --url URL        API base URL (env HUMANA_URL, default http://127.0.0.1:3000)
  --api-url URL    Same as --url (needed with \`webhooks create\`, where --url is the endpoint)
  --api-key KEY    API key (env HUMANA_API_KEY)
  -h, --help       This help

Exit codes: 0 ok, 1 API error, 2 usage error, 3 network error.
`;

const tty = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const c = { green: paint(32), red: paint(31), yellow: paint(33), dim: paint(2), bold: paint(1), cyan: paint(36) };
const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');
const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

/** A one-line spinner on a TTY only; no-op otherwise. */
function spinner(text: string): { stop(): void } {
  if (!tty) return { stop() {} };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const t = setInterval(() => process.stdout.write(`\r${c.cyan(frames[i++ % frames.length])} ${text}`), 80);
  return {
    stop() {
      clearInterval(t);
      process.stdout.write('\r\x1b[2K');
    },
  };
}

function client(values: Record<string, unknown>): HumanaEvents {
  const baseUrl = (values.url as string | undefined) ?? process.env.HUMANA_URL ?? 'http://127.0.0.1:3000';
  const apiKey = (values['api-key'] as string | undefined) ?? process.env.HUMANA_API_KEY;
  if (!apiKey) throw new UsageError('an API key is required: --api-key KEY or HUMANA_API_KEY');
  try {
    new URL(baseUrl);
  } catch {
    throw new UsageError(`not a URL: ${baseUrl}`);
  }
  return new HumanaEvents({ baseUrl, apiKey });
}

function signalOnExit(): AbortSignal {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}

async function listen(values: Record<string, unknown>): Promise<void> {
  const target = values['forward-to'] as string | undefined;
  if (!target) throw new UsageError('listen needs --forward-to URL');
  try {
    const u = new URL(target);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--forward-to must be an http(s) URL: ${target}`);
  }
  const api = client(values);
  const secret = (values.secret as string | undefined) ?? `whsec_${randomBytes(24).toString('base64')}`;
  const signal = signalOnExit();
  out(`${c.bold('Forwarding events')} to ${target}`);
  out(`Signing secret: ${c.bold(secret)}`);
  let spin = spinner('connecting…');
  let organizationId: string | undefined;
  const stream = api.events.stream({
    events: list(values.events as string | undefined),
    companions: list(values.companions as string | undefined),
    signal,
    onOpen: ({ reconnects }) => {
      spin.stop();
      err(c.dim(reconnects ? `reconnected (resuming after ${stream.lastEventId ?? 'start'})` : 'connected, waiting for events'));
    },
    onReconnect: ({ error, delayMs }) => {
      spin.stop();
      err(c.yellow(`connection lost (${(error as Error)?.message ?? error}); reconnecting in ${Math.round(delayMs)} ms`));
      spin = spinner('reconnecting…');
    },
  });
  for await (const ev of stream) {
    if (organizationId === undefined) {
      organizationId = await api.events.get(ev.id).then(
        (e) => e.organizationId,
        () => '',
      );
    }
    await forward(ev, target, secret, organizationId || undefined);
  }
  spin.stop();
}

async function forward(ev: StreamEvent, target: string, secret: string, organizationId: string | undefined): Promise<void> {
  const envelope = {
    id: ev.id,
    type: ev.type,
    ...(organizationId ? { organizationId } : {}),
    timestamp: (ev.data as { timestamp?: string }).timestamp,
    data: ev.data,
  };
  const body = JSON.stringify(envelope);
  const deliveryId = `del_local_${randomBytes(8).toString('hex')}`;
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'humana-events-cli',
    'x-humana-event': ev.type,
    'x-humana-delivery': deliveryId,
    ...signatureHeaders({ secret, id: ev.id, body }),
  };
  const started = performance.now();
  let status: string;
  try {
    const res = await fetch(target, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer().catch(() => undefined);
    status = res.ok ? c.green(String(res.status)) : c.red(String(res.status));
  } catch (e) {
    status = c.red(`error: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
  }
  const ms = Math.round(performance.now() - started);
  out(`${c.dim(new Date().toISOString())} ${c.bold(ev.type)} ${ev.id} → ${status} ${c.dim(`(${ms} ms)`)}`);
}

async function trigger(values: Record<string, unknown>, positionals: string[]): Promise<void> {
  const type = positionals[0];
  if (!type) throw new UsageError(`trigger needs an event type: ${EVENT_TYPES.join(', ')}`);
  let extra: Record<string, unknown> = {};
  if (values.data !== undefined) {
    try {
      extra = JSON.parse(values.data as string);
    } catch {
      throw new UsageError('--data must be a JSON object');
    }
    if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw new UsageError('--data must be a JSON object');
  }
  const api = client(values);
  const base = (sampleData as Record<string, object>)[type] ?? (await customSample(api, type));
  const envelope = await api.events.publish({ type: type as EventType, data: { ...base, ...extra } } as never);
  if (tty) out(`${c.green('published')} ${envelope.type} ${envelope.id}`);
  else out(JSON.stringify(envelope));
}

/** An own type's first example, else a sample of its schema; an unknown name is a usage error. */
async function customSample(api: HumanaEvents, type: string): Promise<object> {
  const info = await api.eventTypes.get(type).catch((e: unknown) => {
    if (e instanceof HumanaApiError && e.status === 404)
      throw new UsageError(`unknown event type "${type}" (built-in: ${EVENT_TYPES.join(', ')}; own: humana-events event-types list)`);
    throw e;
  });
  const made = info.examples?.[0] ?? sample(info.schema as JsonSchema);
  return made && typeof made === 'object' ? made : {};
}

async function types(values: Record<string, unknown>): Promise<void> {
  const api = client(values);
  const all = await api.eventTypes.list();
  const chosen = values.builtins ? all : all.filter((t) => !t.builtIn);
  const text = typesModule(chosen, [
    `GENERATED by \`humana-events types${values.builtins ? ' --builtins' : ''}\` from ${api.http.baseUrl}/api/v1/event-types.`,
    'Do not edit: run the command again after changing an event type.',
  ]);
  const file = values.out as string | undefined;
  if (file) {
    writeFileSync(file, text);
    err(`${c.green('wrote')} ${file} (${chosen.length} event type${chosen.length === 1 ? '' : 's'})`);
  } else process.stdout.write(text);
}

async function eventTypes(values: Record<string, unknown>, positionals: string[]): Promise<void> {
  const api = client(values);
  switch (positionals[0]) {
    case 'list': {
      for (const t of await api.eventTypes.list()) {
        out(tty ? `${c.bold(t.type)} ${t.builtIn ? c.dim('built-in') : c.cyan(`v${t.version}`)} ${t.description}` : JSON.stringify(t));
      }
      return;
    }
    case 'create': {
      const file = values.file as string | undefined;
      if (!file) throw new UsageError('event-types create --file schema.json');
      let input: unknown;
      try {
        input = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new UsageError(`--file must be a readable JSON file: ${(e as Error).message}`);
      }
      if (!input || typeof input !== 'object' || Array.isArray(input))
        throw new UsageError('--file must hold a JSON object { name, description?, schema, examples? }');
      const created = await api.eventTypes.create(input as Parameters<typeof api.eventTypes.create>[0]);
      out(tty ? `${c.green('created')} ${created.type} v${created.version}` : JSON.stringify(created));
      return;
    }
    default:
      throw new UsageError('event-types list | create --file schema.json');
  }
}

async function tail(values: Record<string, unknown>): Promise<void> {
  const api = client(values);
  const signal = signalOnExit();
  const stream = api.events.stream({
    events: list(values.events as string | undefined),
    companions: list(values.companions as string | undefined),
    signal,
    onReconnect: ({ error, delayMs }) =>
      err(`connection lost (${(error as Error)?.message ?? error}); reconnecting in ${Math.round(delayMs)} ms`),
  });
  for await (const ev of stream) out(JSON.stringify(ev));
}

async function webhooks(values: Record<string, unknown>, positionals: string[]): Promise<void> {
  const [sub, id] = positionals;
  const api = client(values);
  switch (sub) {
    case 'list': {
      for await (const w of api.webhooks.list()) {
        out(
          tty
            ? `${c.bold(w.id)} ${w.enabled ? c.green('enabled') : c.red('disabled')} ${w.url} ${c.dim(w.events.join(','))}`
            : JSON.stringify(w),
        );
      }
      return;
    }
    case 'create': {
      const url = values.url_ as string | undefined;
      const events = list(values.events as string | undefined);
      if (!url || !events?.length) throw new UsageError('webhooks create needs --url URL --events a,b');
      const w = await api.webhooks.create({
        url,
        events,
        ...(values.secret ? { secret: values.secret as string } : {}),
        ...(values.description ? { description: values.description as string } : {}),
      });
      out(tty ? `${c.green('created')} ${w.id}\nsecret: ${c.bold(w.secret)} (shown once)` : JSON.stringify(w));
      return;
    }
    case 'test': {
      if (!id) throw new UsageError('webhooks test <id>');
      const r = await api.webhooks.test(id);
      out(
        tty
          ? `${r.success ? c.green('success') : c.red('failed')} ${r.statusCode ?? ''} ${r.duration} ms${r.error ? ` ${r.error}` : ''}`
          : JSON.stringify(r),
      );
      if (!r.success) process.exitCode = EXIT.api;
      return;
    }
    default:
      throw new UsageError('webhooks list | create --url URL --events a,b | test <id>');
  }
}

async function dlq(values: Record<string, unknown>, positionals: string[]): Promise<void> {
  const [sub, id] = positionals;
  const api = client(values);
  switch (sub) {
    case 'list': {
      for await (const f of api.dlq.list({ webhookId: values['webhook-id'] as string | undefined })) {
        out(
          tty
            ? `${c.bold(f.id)} ${'events' in f.event ? `batch of ${f.event.events.length}` : `${f.event.type} ${f.event.id}`} ${c.red(f.failureReason)} ${c.dim(f.createdAt)}`
            : JSON.stringify(f),
        );
      }
      return;
    }
    case 'retry': {
      if (values.all) {
        const r = await api.dlq.retryAll({ webhookId: values['webhook-id'] as string | undefined });
        out(JSON.stringify(r));
        return;
      }
      if (!id) throw new UsageError('dlq retry <id> | dlq retry --all');
      out(JSON.stringify(await api.dlq.retry(id)));
      return;
    }
    default:
      throw new UsageError('dlq list | retry <id> | retry --all');
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    out(HELP);
    return command ? EXIT.ok : EXIT.usage;
  }
  // `--url` is the API base URL everywhere except `webhooks create`, where it is the endpoint URL.
  const isCreate = command === 'webhooks' && rest[0] === 'create';
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        'api-url': { type: 'string' },
        'api-key': { type: 'string' },
        'forward-to': { type: 'string' },
        events: { type: 'string' },
        companions: { type: 'string' },
        secret: { type: 'string' },
        data: { type: 'string' },
        description: { type: 'string' },
        'webhook-id': { type: 'string' },
        all: { type: 'boolean' },
        out: { type: 'string' },
        builtins: { type: 'boolean' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err(`humana-events: ${(e as Error).message}\n`);
    err(HELP);
    return EXIT.usage;
  }
  const values: Record<string, unknown> = { ...parsed.values };
  if (isCreate) {
    values.url_ = values.url;
    values.url = values['api-url'];
  } else if (values['api-url'] !== undefined) values.url = values['api-url'];
  if (values.help) {
    out(HELP);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case 'listen':
        await listen(values);
        break;
      case 'trigger':
        await trigger(values, parsed.positionals);
        break;
      case 'tail':
        await tail(values);
        break;
      case 'webhooks':
        await webhooks(values, parsed.positionals);
        break;
      case 'dlq':
        await dlq(values, parsed.positionals);
        break;
      case 'types':
        await types(values);
        break;
      case 'event-types':
        await eventTypes(values, parsed.positionals);
        break;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`humana-events: ${e.message} (see --help)`);
      return EXIT.usage;
    }
    if (e instanceof HumanaApiError) {
      err(`humana-events: ${e.status} ${e.code}: ${e.message}`);
      for (const d of e.details) err(`  ${d.field ? `${d.field}: ` : ''}${d.message ?? JSON.stringify(d)}`);
      return EXIT.api;
    }
    if (e instanceof HumanaNetworkError) {
      err(`humana-events: network error: ${e.message}`);
      return EXIT.network;
    }
    err(`humana-events: ${(e as Error)?.stack ?? e}`);
    return EXIT.api;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    err(String(e));
    process.exit(EXIT.api);
  },
);
