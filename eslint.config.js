// Lint holds the layers: workflows/ is sandboxed code, api/ reaches calls only through Temporal and the
// store, store/ knows nothing of Temporal. Formatting is Prettier's (npm run format).
import { builtinModules } from 'node:module';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const forbid = (groups, message) => ({ group: groups, message });

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.scratch/', 'web/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits hides its failure: an activity's error, a lost write.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node built-ins, no clients.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflow code is deterministic: no Node built-ins' })),
          patterns: [
            // Only Temporal's sandbox-safe packages and the workflow's own files: anything else is I/O or Node.
            {
              regex: '^(?!@temporalio/(workflow|common)$|\\./|\\.\\./activities/)',
              message: 'workflows/ imports only @temporalio/workflow (and common) and its own files',
            },
            { ...forbid(['../activities/*', '../activities/**'], 'workflows import activities by type only'), allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    // The API talks to calls through Temporal and reads the store; it never runs activity or worker code.
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(
              ['**/activities/*', '**/activities/**', '**/worker/*', '**/worker/**'],
              'api/ uses store/ and Temporal, never activities/ or worker/',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(['**/api/*', '**/api/**', '**/worker/*', '**/worker/**'], 'activities/ use store/ and common/, never api/ or worker/'),
          ],
        },
      ],
    },
  },
  {
    // PostgreSQL and Redis access, shared by activities and the API: nothing of Temporal or of its users.
    files: ['store/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(
              ['@temporalio/*', '**/activities/*', '**/activities/**', '**/api/*', '**/api/**', '**/worker/*', '**/worker/**'],
              'store/ knows nothing of Temporal or its users',
            ),
            forbid(
              ['../workflows/*', '!../workflows/types.js', '!../workflows/call-duration.js', '!../workflows/party.js'],
              'store/ takes only the shared shapes of workflows/',
            ),
          ],
        },
      ],
    },
  },
  // A CommonJS preload (worker/stack-traces.cjs): `--require` takes only CommonJS.
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  prettier,
);
