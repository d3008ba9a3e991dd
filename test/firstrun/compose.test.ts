import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/firstrun → the repository
const read = (p: string) => readFileSync(`${ROOT}${p}`, 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  healthcheck?: { test?: unknown; interval?: string; retries?: number };
  restart?: string;
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
}

describe('docker/compose.yml starts from cold (checked offline: no Docker engine here)', () => {
  const compose = parse(read('docker/compose.yml'), { merge: true }) as { services: Record<string, Service> };
  const services = Object.entries(compose.services);

  test('every service has a health check and a restart policy', () => {
    assert.ok(services.length >= 4);
    for (const [name, s] of services) {
      assert.ok(s.healthcheck?.test, `${name}: healthcheck`);
      assert.match(s.restart ?? '', /^(unless-stopped|always|on-failure)/, `${name}: restart policy`);
    }
  });

  test('app services wait for healthy dependencies (depends_on condition)', () => {
    for (const [name, s] of services.filter(([, s]) => s.build)) {
      const deps = s.depends_on;
      assert.ok(deps && !Array.isArray(deps), `${name}: depends_on with conditions`);
      assert.equal(deps.redis?.condition, 'service_healthy', `${name} → redis`);
      assert.equal(deps.postgres?.condition, 'service_healthy', `${name} → postgres`);
    }
  });

  test('secrets are required (${VAR:?…}), never defaulted', () => {
    const text = read('docker/compose.yml');
    assert.match(text, /ADMIN_TOKEN: \$\{ADMIN_TOKEN:\?[^}]+\}/);
    assert.match(text, /SECRETS_KEY: \$\{SECRETS_KEY:\?[^}]+\}/);
    assert.doesNotMatch(text, /change-me|ADMIN_TOKEN:-|SECRETS_KEY:-/, 'no known default secret');
    for (const [name, s] of services.filter(([, s]) => s.build)) {
      assert.equal(s.environment?.HOST ?? '0.0.0.0', '0.0.0.0', `${name}: HOST`);
      assert.equal(s.environment?.NODE_ENV ?? 'production', 'production', name);
    }
  });

  test('Dockerfile: multi-stage, no tests or bench in the runtime image, HEALTHCHECK, HOST=0.0.0.0, non-root', () => {
    const dockerfile = read('docker/Dockerfile');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    assert.ok(stages.length >= 2, 'multi-stage');
    const runtime = stages[stages.length - 1];
    assert.doesNotMatch(runtime, /\b(test|bench)\b/, 'runtime stage copies no tests or bench');
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(runtime, /COPY --from=deps \/app\/node_modules/);
    assert.match(runtime, /^HEALTHCHECK /m);
    assert.match(runtime, /HOST=0\.0\.0\.0/);
    assert.match(runtime, /^USER node/m);
  });

  test('.dockerignore keeps node_modules, .data, dist and git out of the build context', () => {
    assert.ok(existsSync(`${ROOT}.dockerignore`));
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', '.data', 'dist', '.git']) assert.ok(ignored.includes(entry), entry);
  });
});
