// Live events over Server-Sent Events, plus a form that publishes a test event.
import { errorFromResponse, errorSummary } from '../lib/api.js';
import { BoundedLog } from '../lib/bounded-log.js';
import { h, replace } from '../lib/dom.js';
import { formatAgo } from '../lib/format.js';
import { parseJsonObject, splitList, toQuery } from '../lib/query.js';
import { exampleEventData } from '../lib/schema-example.js';
import { badge, errorBox, field, jsonBlock, section } from '../ui/components.js';
import { eventRow } from '../ui/event-row.js';

/** @typedef {import('../lib/context.js').Ctx} Ctx */
/** @typedef {import('../lib/api.js').Schemas} Schemas */

const MAX_EVENTS = 500;

/** One received stream message: its SSE id and event name, its data (the envelope, parsed when JSON). */
/** @typedef {{ id?: string, type: string, data: unknown, timestamp: string }} LiveEntry */

/**
 * Asks the stream URL once with fetch to learn why EventSource gave up (EventSource never exposes the status).
 * @param {string} url
 */
async function explainStreamFailure(url) {
  const abort = new AbortController();
  try {
    const res = await fetch(url, { headers: { Accept: 'text/event-stream' }, signal: abort.signal, cache: 'no-store' });
    if (res.ok) return { text: 'The server closed the stream.', retry: true };
    // A refused credential or a bad filter will not get better by retrying; a restarting server will.
    return {
      text: errorSummary(errorFromResponse(res.status, await res.text(), res.statusText)),
      retry: res.status >= 500 || res.status === 429,
    };
  } catch (err) {
    return { text: `Cannot reach the server: ${err instanceof Error ? err.message : String(err)}`, retry: true };
  } finally {
    abort.abort();
  }
}

/**
 * @param {Ctx} ctx
 */
export function liveView(ctx) {
  /** @type {BoundedLog<LiveEntry>} */
  const log = new BoundedLog(MAX_EVENTS);
  /** @type {EventSource | null} */
  let source = null;
  /** Bumped by every disconnect, so a connect still waiting for the catalog knows it was superseded. */
  let generation = 0;
  let paused = false;
  let lastEventId = '';
  let lastHeartbeat = 0;
  /** @type {LiveEntry[]} */
  let pending = [];
  let frame = 0;
  let disposed = false;
  let retryTimer = 0;
  let retryDelay = 1000;

  const events = h('input', { name: 'events', placeholder: 'all types — or message.sent, chat.*', class: 'mono' });
  const companions = h('input', { name: 'companions', placeholder: 'comp-123, comp-456', class: 'mono' });
  const userId = h('input', { name: 'userId', placeholder: 'user-789', class: 'mono' });
  const state = h('span', {}, badge('connecting'));
  const counter = h('span', { class: 'muted' });
  const heartbeat = h('span', { class: 'muted' });
  const problem = h('div', { 'aria-live': 'polite' });
  const listEl = h('ol', { class: 'event-log', 'aria-label': 'Received events, newest first' });
  const pauseButton = h('button', { type: 'button' }, 'Pause');

  const setState = (/** @type {string} */ word) => replace(state, badge(word));
  const updateCounter = () => replace(counter, `${log.total} received · ${log.size} shown (max ${MAX_EVENTS})`);

  function flush() {
    frame = 0;
    const batch = pending;
    pending = [];
    const fragment = document.createDocumentFragment();
    for (let i = batch.length - 1; i >= 0; i -= 1) fragment.append(eventRow(batch[i]));
    listEl.prepend(fragment);
    while (listEl.childElementCount > log.size) listEl.lastElementChild?.remove();
    updateCounter();
  }

  /**
   * @param {string} type
   * @param {MessageEvent} e
   */
  function receive(type, e) {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      data = e.data;
    }
    const entry = {
      id: e.lastEventId || undefined,
      type,
      data,
      timestamp: (data && typeof data === 'object' && typeof data.timestamp === 'string' && data.timestamp) || new Date().toISOString(),
    };
    if (entry.id) lastEventId = entry.id;
    if (!log.push(entry).added) return;
    pending.push(entry);
    if (pending.length > MAX_EVENTS) pending.splice(0, pending.length - MAX_EVENTS);
    frame ||= requestAnimationFrame(flush);
  }

  /** @param {string} [resumeFrom] */
  function streamUrl(resumeFrom) {
    return `/api/v1/events/stream${toQuery({
      access_token: ctx.session.apiKey,
      events: splitList(events.value),
      companions: splitList(companions.value),
      userId: userId.value.trim(),
      lastEventId: resumeFrom,
    })}`;
  }

  function disconnect() {
    clearTimeout(retryTimer);
    generation += 1;
    source?.close();
    source = null;
  }

  /** @param {string} [resumeFrom] */
  async function connect(resumeFrom) {
    disconnect();
    const mine = generation;
    paused = false;
    pauseButton.textContent = 'Pause';
    replace(problem);
    setState('connecting');
    /** @type {string[]} */
    let types = [];
    try {
      types = (await ctx.catalog()).map((t) => t.type);
    } catch (err) {
      replace(problem, errorBox(err), h('p', { class: 'muted' }, 'Without the catalog only unnamed events can be shown.'));
    }
    if (disposed || mine !== generation) return;
    const url = streamUrl(resumeFrom);
    const es = new EventSource(url);
    source = es;
    es.addEventListener('open', () => {
      setState('live');
      retryDelay = 1000;
      replace(problem);
    });
    es.addEventListener('error', async () => {
      if (source !== es) return;
      if (es.readyState === EventSource.CONNECTING) {
        setState('connecting'); // EventSource retries by itself, resuming with Last-Event-ID
        return;
      }
      setState('closed');
      const why = await explainStreamFailure(url);
      if (source !== es) return;
      if (!why.retry) {
        replace(problem, h('p', { class: 'error-box', role: 'alert' }, why.text, ' Press Resume to try again.'));
        paused = true;
        pauseButton.textContent = 'Resume';
        return;
      }
      // Reconnect by ourselves (EventSource gives up after a non-200 answer, e.g. while the server restarts),
      // resuming after the last event seen so nothing retained is missed.
      replace(problem, h('p', { class: 'muted' }, `${why.text} Reconnecting in ${Math.round(retryDelay / 1000)} s…`));
      const delay = retryDelay;
      retryDelay = Math.min(retryDelay * 2, 30_000);
      retryTimer = setTimeout(() => {
        if (source === es && !disposed) connect(lastEventId || undefined);
      }, delay);
    });
    es.addEventListener('heartbeat', () => {
      lastHeartbeat = Date.now();
      tick();
    });
    es.addEventListener('message', (e) => receive('message', e));
    for (const type of types) es.addEventListener(type, (e) => receive(type, e));
  }

  function tick() {
    replace(heartbeat, lastHeartbeat ? `heartbeat ${formatAgo(lastHeartbeat)}` : 'no heartbeat yet');
  }
  const ticker = setInterval(tick, 1000);

  pauseButton.addEventListener('click', () => {
    if (paused) {
      // Resume where we stopped: the server replays what was missed (while retained), then goes live.
      connect(lastEventId || undefined);
      return;
    }
    disconnect();
    paused = true;
    setState('paused');
    pauseButton.textContent = 'Resume';
  });

  const filters = h(
    'form',
    { class: 'inline-form' },
    field('Event types', events, { hint: 'Comma-separated; empty: every type.' }),
    field('Companions', companions),
    field('User id', userId),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'),
  );
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    connect();
  });

  const clear = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        log.clear();
        pending = [];
        listEl.replaceChildren();
        updateCounter();
      },
    },
    'Clear',
  );

  tick();
  updateCounter();
  connect();
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Live events'), h('div', { class: 'actions' }, pauseButton, clear)),
      section('Stream', null, filters, h('p', { class: 'status-line' }, state, counter, heartbeat), problem, listEl),
      publishForm(ctx),
    ),
    dispose() {
      disposed = true;
      disconnect();
      clearTimeout(retryTimer);
      clearInterval(ticker);
      if (frame) cancelAnimationFrame(frame);
    },
  };
}

/**
 * @param {Ctx} ctx
 */
function publishForm(ctx) {
  const type = h('select', { name: 'type', required: true }, h('option', { value: '' }, 'Loading types…'));
  const data = h('textarea', { name: 'data', rows: 10, class: 'mono', spellcheck: false });
  const id = h('input', { name: 'id', placeholder: 'optional idempotency id', class: 'mono' });
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Publish');
  let schemas = new Map();

  const fillExample = () => {
    const schema = schemas.get(type.value);
    data.value = schema ? JSON.stringify(exampleEventData(schema), null, 2) : '{}';
  };
  ctx.catalog().then(
    (types) => {
      schemas = new Map(types.map((t) => [t.type, t.schema]));
      replace(
        type,
        types.map((t) => h('option', { value: t.type }, t.type)),
      );
      const preferred = types.find((t) => t.type === 'message.sent') ?? types[0];
      if (preferred) type.value = preferred.type;
      fillExample();
    },
    (err) => {
      replace(type, h('option', { value: '' }, 'catalog unavailable'));
      replace(result, errorBox(err));
    },
  );
  type.addEventListener('change', fillExample);

  const form = h(
    'form',
    { class: 'form-grid' },
    field('Event type', type),
    field('Id', id, { hint: 'A repeated id within 24 h returns the first event and is not sent again.' }),
    field('Data (JSON)', data, { wide: true, hint: 'Prefilled with an example from the type’s schema; timestamp is added by the server.' }),
    h('div', { class: 'actions wide' }, h('button', { type: 'button', onclick: fillExample }, 'Reset example'), submit),
    h('div', { class: 'wide' }, result),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const parsed = parseJsonObject(data.value);
    if (parsed.error || !parsed.value) {
      replace(result, h('p', { class: 'error-box', role: 'alert' }, parsed.error ?? 'Data is required'));
      return;
    }
    submit.disabled = true;
    try {
      const envelope = /** @type {Schemas['EventEnvelope']} */ (
        await ctx.api.post('/api/v1/events', {
          type: type.value,
          data: parsed.value,
          ...(id.value.trim() ? { id: id.value.trim() } : {}),
        })
      );
      replace(
        result,
        h('p', { class: 'success-box', role: 'status' }, 'Published ', h('code', {}, envelope.id)),
        jsonBlock(envelope, 'Envelope'),
      );
    } catch (err) {
      replace(result, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  return section('Publish a test event', null, form);
}
