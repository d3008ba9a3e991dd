import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStreamIds } from '../../src/common/stream-ids.js';
import { filterMatches, isKnownTypePattern, type StreamFilter } from '../../src/realtime/stream-filter.js';
import { SubscriptionIndex, type Subscriber, type Subscription } from '../../src/realtime/subscription-index.js';

class Conn implements Subscriber {
  lastDispatch = 0;
  constructor(
    readonly organizationId: string,
    readonly name: string,
  ) {}
}

/** A filter (without companions) that counts how often it is evaluated: filterMatches reads `companions` once. */
function counted(f: Pick<StreamFilter, 'types' | 'userId'>, calls: { n: number }): StreamFilter {
  return {
    ...f,
    get companions() {
      calls.n++;
      return null;
    },
  };
}

function sub(conn: Conn, filter: StreamFilter, id = `${conn.name}-${Math.random()}`): Subscription<Conn> {
  return { id, filter, subscriber: conn };
}

function deliveries(index: SubscriptionIndex<Conn>, org: string, type: string, data: Record<string, unknown>): string[] {
  const out: string[] = [];
  index.dispatch(org, type, data, (c) => out.push(c.name));
  return out.sort();
}

describe('subscription index', () => {
  test('10,000 per-user subscribers: an event is checked against its user’s subscriptions only', () => {
    const index = new SubscriptionIndex<Conn>();
    const calls = { n: 0 };
    for (let i = 0; i < 10_000; i++) index.add(sub(new Conn('org_a', `u${i}`), counted({ types: null, userId: `user-${i}` }, calls)));
    for (let i = 0; i < 100; i++)
      index.add(sub(new Conn('org_a', `m${i}`), counted({ types: ['message.sent'], userId: `user-${i}` }, calls)));
    calls.n = 0;
    assert.deepEqual(deliveries(index, 'org_a', 'message.sent', { userId: 'user-42' }), ['m42', 'u42']);
    assert.equal(calls.n, 2, 'two candidates evaluated, not 10,100');
    calls.n = 0;
    assert.deepEqual(deliveries(index, 'org_b', 'message.sent', { userId: 'user-42' }), []);
    assert.equal(calls.n, 0, 'another organization’s subscribers are never looked at');
  });

  test('types: exact, category pattern and everything; companions and user combined; globs', () => {
    const index = new SubscriptionIndex<Conn>();
    const add = (name: string, f: Partial<StreamFilter>) =>
      index.add(sub(new Conn('o', name), { types: null, companions: null, userId: null, ...f }));
    add('all', {});
    add('exact', { types: ['message.sent'] });
    add('pattern', { types: ['message.*'] });
    add('star', { types: ['*'] });
    add('comp', { companions: ['c1', 'c2'] });
    add('combined', { types: ['message.*'], companions: ['c1'], userId: 'u1' });
    add('glob', { companions: ['c*'], userId: 'u*' });
    assert.deepEqual(deliveries(index, 'o', 'message.sent', { companionId: 'c1', userId: 'u1' }), [
      'all',
      'combined',
      'comp',
      'exact',
      'glob',
      'pattern',
      'star',
    ]);
    assert.deepEqual(deliveries(index, 'o', 'message.received', { companionId: 'c2', userId: 'u1' }), [
      'all',
      'comp',
      'glob',
      'pattern',
      'star',
    ]);
    assert.deepEqual(deliveries(index, 'o', 'chat.started', { companionId: 'x', userId: 'u1' }), ['all', 'star']);
    assert.deepEqual(deliveries(index, 'o', 'performance.degraded', {}), ['all', 'star']);
  });

  test('a connection with several matching subscriptions gets the event once; removal cleans every slot', () => {
    const index = new SubscriptionIndex<Conn>();
    const conn = new Conn('o', 'c');
    const s1 = sub(conn, { types: ['message.sent', 'message.*'], companions: ['c1', 'c1'], userId: null });
    const s2 = sub(conn, { types: null, companions: null, userId: 'u1' });
    index.add(s1);
    index.add(s2);
    index.add(s1);
    assert.equal(index.size, 2);
    assert.deepEqual(deliveries(index, 'o', 'message.sent', { companionId: 'c1', userId: 'u1' }), ['c']);
    index.remove(s1);
    assert.deepEqual(deliveries(index, 'o', 'message.sent', { companionId: 'c1', userId: 'u9' }), []);
    assert.deepEqual(deliveries(index, 'o', 'message.sent', { companionId: 'c1', userId: 'u1' }), ['c']);
    index.remove(s2);
    index.remove(s2);
    assert.equal(index.size, 0);
    assert.deepEqual(deliveries(index, 'o', 'message.sent', { companionId: 'c1', userId: 'u1' }), []);
  });
});

test('stream filters and ids', () => {
  assert.ok(isKnownTypePattern('message.sent'));
  assert.ok(isKnownTypePattern('message.*'));
  assert.ok(isKnownTypePattern('*'));
  assert.ok(!isKnownTypePattern('message.nope'));
  assert.ok(!isKnownTypePattern('nope.*'));
  assert.ok(!isKnownTypePattern('message'));
  assert.ok(filterMatches({ types: ['chat.*'], companions: null, userId: null }, 'chat.ended', {}));
  assert.ok(!filterMatches({ types: null, companions: ['c1'], userId: null }, 'chat.ended', {}), 'no companionId: no match');
  assert.deepEqual(['10-2', '9-5', '10-10', '10-1', '100-0'].sort(compareStreamIds), ['9-5', '10-1', '10-2', '10-10', '100-0']);
});
