// ESLint (npm test runs it): typescript-eslint's recommended rules with type information, the
// promise rules that catch a forgotten await, and for src/workflows the rules that keep a
// workflow deterministic (no Node built-ins, no I/O libraries, no clocks or randomness of the
// host), as temporalio/samples-typescript configures them. Formatting is not linted.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** What workflow code must not import at run time (types are fine: activities are called through proxies). */
const notInWorkflows = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/testing',
  'mongoose',
  'mongodb',
  'fastify',
  'pino',
  'twilio',
  '@sendgrid/*',
  'nodemailer',
  'pdfkit',
];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'dist/', 'coverage/', 'src/ui/assets/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `_name` marks a value left out on purpose (a destructured field dropped, an unused parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // A test reads JSON answers and SDK internals loosely on purpose: `any` there is an assertion's subject, not a type left out.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: notInWorkflows
            .filter((m) => !m.includes('*'))
            .map((name) => ({
              name,
              message: 'workflow code is deterministic: no I/O, no Node built-ins',
              allowTypeImports: true,
            })),
          patterns: [
            { group: ['@sendgrid/*'], message: 'workflow code is deterministic: no I/O', allowTypeImports: true },
            {
              group: [
                '**/activities',
                '**/activities/*',
                '**/db/*',
                '**/api/*',
                '**/providers/*',
                '!**/providers/types',
              ],
              message: 'workflows call activities through proxyActivities and import their types only',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...[
          'process',
          'Buffer',
          'require',
          'setImmediate',
          'setInterval',
          'fetch',
          'performance',
          'crypto',
          'queueMicrotask',
        ].map((name) => ({ name, message: `${name} is not deterministic or not available in a workflow` })),
      ],
    },
  },
  {
    // Scripts and configuration in plain JavaScript: no type information for them.
    files: ['**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { ...globals.node } },
  },
);
