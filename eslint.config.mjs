// Type-aware lint. The workflow rules make the replay hazards of STYLE.md impossible, not reviewed:
// no Node built-ins, no zod or pino, no real clock or randomness inside src/workflows.
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.tools/**', '.data/**', 'coverage/**', '*.js', '*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // prettier wraps code at 120; this holds comments to the same width (strings may run longer: a message is not
      // split).
      'max-len': [
        'error',
        {
          code: 120,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreUrls: true,
          ignoreRegExpLiterals: true,
          ignoreTrailingComments: true,
        },
      ],
    },
  },
  {
    // lint-probes: one deliberate violation per file, checked by test/static/lint.test.ts.
    files: ['src/workflows/**/*.ts', 'test/fixtures/nondeterministic-workflow.ts', 'test/fixtures/lint-probes/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_BUILTINS.flatMap((name) => [name, `node:${name}`]).map((name) => ({
              name,
              message: 'Workflow code runs in a deterministic sandbox: do I/O in an activity.',
            })),
            {
              name: 'zod',
              message: 'Validate in the bridge or in activities; zod objects are instantiated per cached workflow.',
              allowTypeImports: true,
            },
            { name: 'pino', message: "Log with the SDK's replay-aware `log` from @temporalio/workflow." },
            { name: 'nats', message: 'Workflow code does no I/O: publish from an activity.', allowTypeImports: true },
            { name: '@temporalio/client', message: 'Workflows cannot use the client.' },
            { name: '@temporalio/worker', message: 'Workflows cannot use the worker.' },
          ],
          patterns: [
            {
              group: ['**/contract/*', '**/config', '**/activities', '**/activities/*'],
              allowTypeImports: true,
              message: 'Only types of these modules may enter the workflow sandbox.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Use the SDK deterministic `uuid4()` or data from an activity.',
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() with a timeout: a durable timer.' },
        { name: 'setInterval', message: 'Use a loop around sleep().' },
      ],
    },
  },
);
