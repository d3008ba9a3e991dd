import { RE2JS } from 're2js';

const compiled = new Map<string, RE2JS>();
const MAX_COMPILED = 256;

/**
 * The RE2 (linear-time) form of a JSONata regex literal; throws for what RE2 cannot run (backreferences, lookaround).
 * Cached because JSONata builds a new engine object each time a regex node is evaluated.
 */
export function re2Of(re: RegExp): RE2JS {
  const key = `${re.flags}/${re.source}`;
  let r = compiled.get(key);
  if (!r) {
    r = RE2JS.compile(RE2JS.translateRegExp(re));
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, r);
  }
  return r;
}

/**
 * The part of the RegExp interface JSONata's regex closures use (`exec` and `lastIndex`, always global), on RE2;
 * passed to jsonata() as its `RegexEngine`, so $match, $replace, $split and $contains never backtrack.
 */
export class Re2Engine {
  lastIndex = 0;
  private readonly re: RE2JS;

  constructor(re: RegExp) {
    this.re = re2Of(re);
  }

  exec(input: string): RegExpExecArray | null {
    const m = this.re.matcher(input);
    if (this.lastIndex > input.length || !m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: (string | undefined)[] = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
    this.lastIndex = m.end();
    return Object.assign(groups, { index: m.start(), input }) as RegExpExecArray;
  }
}
