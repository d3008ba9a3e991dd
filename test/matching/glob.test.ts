import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { globProblem, valueMatches, valuePatternSchema } from '../../src/events/matching.js';

/** Reference: textbook dynamic programming over (pattern index, text index); obviously right, O(n·m) memory. */
function reference(pattern: string, text: string): boolean {
  const m = pattern.length;
  const n = text.length;
  let row = new Array<boolean>(n + 1).fill(false);
  row[0] = true;
  for (let i = 1; i <= m; i++) {
    const next = new Array<boolean>(n + 1).fill(false);
    const star = pattern[i - 1] === '*';
    next[0] = star && row[0];
    for (let j = 1; j <= n; j++) next[j] = star ? row[j] || next[j - 1] : row[j - 1] && pattern[i - 1] === text[j - 1];
    row = next;
  }
  return row[n];
}

/** Milliseconds one call takes. */
function timed(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

describe('value globs', () => {
  test('exact, prefix, suffix, infix and multi-wildcard patterns', () => {
    const cases: [string, string, boolean][] = [
      ['comp-1', 'comp-1', true],
      ['comp-1', 'comp-10', false],
      ['user-*', 'user-', true],
      ['user-*', 'user-42', true],
      ['user-*', 'use-42', false],
      ['*-eu', 'fra-eu', true],
      ['*-eu', 'fra-us', false],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'aXbYc', true],
      ['a*b*c', 'acb', false],
      ['a*a', 'a', false], // head and tail may not overlap
      ['a*a', 'aa', true],
      ['*ab*ab*', 'abab', true],
      ['*ab*ab*', 'aba', false],
      ['**', '', true],
      ['a**b', 'ab', true],
      ['*', '', true],
      ['.+?()[]{}|^$\\', '.+?()[]{}|^$\\', true], // regex metacharacters are plain characters
      ['a.c', 'abc', false],
      ['line*', 'line1\nline2', true], // `*` crosses newlines
    ];
    for (const [p, v, want] of cases) assert.equal(valueMatches(p, v), want, `${JSON.stringify(p)} vs ${JSON.stringify(v)}`);
  });

  test('strings, numbers and booleans compare by string form; absent, null and objects never match', () => {
    assert.ok(valueMatches('42', 42));
    assert.ok(valueMatches('4*', 42));
    assert.ok(valueMatches('true', true));
    assert.ok(valueMatches('*', ''));
    for (const v of [undefined, null, { a: 1 }, ['x']]) assert.ok(!valueMatches('*', v), JSON.stringify(v));
  });

  test('pathological patterns answer in linear time (the old regex took seconds or never returned)', () => {
    const aas = 'a'.repeat(70);
    assert.ok(timed(() => assert.ok(!valueMatches('*a*a*a*a*a*a*!', aas))) < 50);
    assert.ok(timed(() => assert.ok(!valueMatches('*a*a*a*a*a*a*a*a*a*a*!', 'a'.repeat(256)))) < 50);
    const big = 'a'.repeat(5_000_000); // a value as large as a publish body allows
    const worst = [`*${'a'.repeat(250)}b*`, `*${'a'.repeat(250)}b`, `${'*a'.repeat(16)}!`, `*${'a*'.repeat(15)}b`];
    for (const p of worst) {
      assert.equal(globProblem(p), null, p);
      const ms = timed(() => assert.ok(!valueMatches(p, big)));
      assert.ok(ms < 1_000, `${p.slice(0, 20)}… took ${ms} ms on 5 MB`);
    }
  });

  test('limits: 256 characters and 16 wildcards (runs of "*" count once)', () => {
    assert.equal(globProblem('*a'.repeat(16)), null);
    assert.equal(globProblem('*a'.repeat(17)), 'at most 16 "*" wildcards');
    assert.equal(globProblem(`${'**a'.repeat(16)}`), null);
    assert.equal(globProblem('x'.repeat(256)), null);
    assert.equal(globProblem('x'.repeat(257)), 'at most 256 characters');
    assert.ok(!valuePatternSchema.safeParse('').success);
    assert.ok(!valuePatternSchema.safeParse('*a'.repeat(17)).success);
  });

  test('property: agrees with the reference on small alphabets', () => {
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '*'), maxLength: 12 });
    const text = fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 16 });
    fc.assert(
      fc.property(pattern, text, (p, t) => valueMatches(p, t) === reference(p, t)),
      { numRuns: 3000 },
    );
  });

  test('property: a pattern built from a text (some pieces replaced by "*") always matches it', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '.', '\n'), maxLength: 30 });
    fc.assert(
      fc.property(text, fc.array(fc.tuple(fc.nat(), fc.nat(4))), (t, cuts) => {
        let p = t;
        for (const [at, len] of cuts) {
          const i = at % (p.length + 1);
          p = `${p.slice(0, i)}*${p.slice(i + len)}`;
        }
        return valueMatches(p, t) && reference(p, t);
      }),
      { numRuns: 1000 },
    );
  });
});
