// @ts-check
import eslint from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', '.test-data/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // A type used only as a type is imported as one: the workflow bundle then carries no module for it.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // Modules that import each other are one module in disguise, and load half-initialised.
      'import-x/no-cycle': 'error',
    },
  },
  {
    // Workflow code is replayed: it must not reach for I/O or wall-clock APIs.
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'axios',
                'node:*',
                'fs',
                'path',
                'crypto',
                '@temporalio/activity',
                '@temporalio/client',
                '@temporalio/worker',
              ],
              message: 'workflow and domain code is replayed: no I/O, no wall clock',
            },
            {
              // activities/contracts.ts is what workflows and activities agree on, pure like the domain.
              regex: '(^|/)(activities|infra|api|config|worker)(/(?!contracts$).*)?$',
              allowTypeImports: true,
              message: 'workflow and domain code may take only types from the modules that do I/O',
            },
          ],
        },
      ],
    },
  },
);
