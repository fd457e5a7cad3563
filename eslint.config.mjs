import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: no I/O libraries, no Node builtins, and
// none of the SDK's packages for the outside (client, worker, activity), which would load gRPC or
// native code there; a workflow talks to the world through @temporalio/workflow alone.
const bannedInWorkflows = [
  ...builtinModules.flatMap((name) => [name, `node:${name}`]),
  'mongodb',
  '@aws-sdk/*',
  'pino',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];
// Files that hold workflow functions: the project's, and the benchmark's baseline.
const workflowFiles = ['src/workflows/**/*.ts', 'bench/baseline-workflows.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', '.dev/', 'test-output/', 'bin/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs describe/test itself; their returned promises need no awaiting.
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'test', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: workflowFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: bannedInWorkflows.map((group) => ({
            group: [group],
            message: 'Workflows must stay deterministic: do I/O in activities.',
          })),
        },
      ],
    },
  },
  {
    // A command's definition loads its body with require() when it runs, so that `--help` and the
    // other commands never load the libraries it needs; the Temporal settings load without the SDK's
    // client, which only connecting needs.
    files: ['src/client/*.ts', 'src/temporal.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'require',
          'setTimeout',
          'setInterval',
          'clearTimeout',
          'clearInterval',
          'Buffer',
          'URL',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
