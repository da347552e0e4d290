import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports point along the flow sheet → plan → runs → postato / sheets, and down from runs to the ledger and the
 * pacing port (the ledger implements the ports of plan, sheets and webhooks, and the SQLite pacer). Each entry names
 * the src/ folders a folder must not import from; app.ts, service.ts and index.ts (the composition root) and the cli
 * may import anything.
 */
const forbiddenFolders = {
  plan: ['runs', 'sheets', 'postato', 'http', 'ops', 'webhooks'],
  postato: ['plan', 'runs', 'sheets', 'http', 'ops', 'webhooks'],
  webhooks: ['runs', 'http', 'ops'],
  sheets: ['runs', 'http', 'ops'],
  drive: ['plan', 'runs', 'sheets', 'postato', 'http', 'ops', 'webhooks'],
  runs: ['http', 'ops'],
  ledger: ['runs', 'http', 'ops', 'cli'],
  pacing: ['runs', 'ledger', 'plan', 'sheets', 'postato', 'http', 'ops', 'webhooks', 'drive', 'cli'],
  ops: ['http'],
};

const layerRules = Object.entries(forbiddenFolders).map(([folder, forbidden]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: forbidden.flatMap((f) => [`../${f}`, `../${f}/*`]),
            message: `src/${folder} must not import from ${forbidden.join(', ')}: imports follow the flow (see eslint.config.mjs).`,
          },
          {
            group: ['../sandbox', '../sandbox/*'],
            message: 'Product code never imports the sandbox or the fakes.',
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'appsscript/build/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Type-aware rules that catch real bugs: a promise nobody awaits (its rejection is lost, its work races on), and
    // a switch that silently ignores a new member of a union.
    // Product code only (src/, appsscript/): typing the tests and benches too made a full lint several times slower.
    files: ['src/**/*.ts', 'appsscript/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // A promise used as a condition or spread is always truthy / empty: an await was forgotten.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },
  ...layerRules,
  {
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../sandbox', '../sandbox/*'], message: 'Product code never imports the sandbox.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
