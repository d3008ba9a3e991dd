// Lint = typescript-eslint's recommended rules + the architecture's dependency rules (docs/architecture.md).
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Infrastructure: imports only other infrastructure. */
const INFRASTRUCTURE = ['config', 'redis', 'database', 'common', 'scheduling'];

/** Features and the features each may import (besides infrastructure). The graph is acyclic by construction. */
const FEATURES = {
  auth: [],
  audit: ['auth'],
  events: ['auth'],
  'event-types': ['auth', 'audit', 'events'],
  destinations: ['events'],
  quotas: ['auth', 'events'],
  webhooks: ['auth', 'audit', 'events', 'destinations'],
  delivery: ['auth', 'audit', 'events', 'destinations', 'webhooks'],
  realtime: ['auth', 'events'],
  observability: ['auth', 'events', 'webhooks', 'delivery', 'realtime'],
  admin: ['auth', 'audit', 'events', 'delivery'],
};

const outsideSrc = (depth) => ['workers', 'test', 'bench'].map((d) => `${'../'.repeat(depth)}${d}/*`);

/** One no-restricted-imports rule for the files of a folder of src/. */
function layerRule(folder, forbiddenFolders, message) {
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: forbiddenFolders.map((f) => `../${f}/*`), message },
            {
              group: [...outsideSrc(2), ...outsideSrc(3)],
              message: 'src/ never imports workers/, test/ or bench/ (only src/app.module.ts imports workers/).',
            },
          ],
        },
      ],
    },
  };
}

const allFeatures = Object.keys(FEATURES);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'sdk/dist/', 'sdk/src/generated/', 'admin/', 'examples/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'max-len': ['error', { code: 160, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
    },
  },
  ...INFRASTRUCTURE.map((f) =>
    layerRule(f, allFeatures, 'Infrastructure (config, redis, database, common, scheduling) never imports a feature.'),
  ),
  ...allFeatures.map((f) =>
    layerRule(
      f,
      allFeatures.filter((g) => g !== f && !FEATURES[f].includes(g)),
      `src/${f} may import only infrastructure and these features: ${FEATURES[f].join(', ') || 'none'} (see eslint.config.js FEATURES).`,
    ),
  ),
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../test/*', '../bench/*', '../src/app.module.js'],
              message: 'workers/ are processors: they import features, never tests, bench or the root.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../bench/*', '../../bench/*'], message: 'bench/ may import test/support/, never the reverse.' }] },
      ],
    },
  },
);
