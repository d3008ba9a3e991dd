import { parentPort, workerData } from 'node:worker_threads';
import { createTransformEngine, type EngineLimits } from './transform-engine.js';

export interface TransformRequest {
  id: number;
  expression: string;
  input: unknown;
}

export type TransformReply = { ready: true } | { id: number; json: string } | { id: number; error: string };

const engine = await createTransformEngine(workerData as EngineLimits);
// Warm the JIT before taking work: a cold first evaluation could overrun the wall-clock budget on a busy machine.
await engine.evaluate('{"a": $uppercase(s), "b": $match(s, /b+/).match, "c": $map([1, 2], function($v){ $v * 2 })}', { s: 'abb' });
const port = parentPort!;
port.on('message', (req: TransformRequest) => {
  engine.evaluate(req.expression, req.input).then(
    (json) => port.postMessage({ id: req.id, json } satisfies TransformReply),
    (err: Error) => port.postMessage({ id: req.id, error: err.message } satisfies TransformReply),
  );
});
port.postMessage({ ready: true } satisfies TransformReply);
