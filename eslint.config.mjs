// Flat config. The layering rules keep process boundaries honest: only src/extension imports 'vscode',
// src/shared imports no other src folder, and the trainer and the server never import each other.
import tseslint from 'typescript-eslint';

const layer = (patterns) => ['error', { patterns }];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'media/dist/**',
      'node_modules/**',
      '.scratch/**',
      '.test-artifacts/**',
      'bench/.cache/**',
      'bench/results/**',
      '*.vsix',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-namespace': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': layer([
        {
          group: ['vscode', 'vscode-languageclient*', 'vscode-languageserver*'],
          message: 'src/shared is imported by every process; keep protocol and editor libraries out of it.',
        },
        { group: ['**/extension/**', '**/server/**', '**/trainer/**'], message: 'src/shared imports no other src folder.' },
      ]),
    },
  },
  {
    files: ['src/server/**/*.ts'],
    rules: {
      'no-restricted-imports': layer([
        { group: ['vscode', 'vscode-languageclient*'], message: 'The language server runs outside the extension host.' },
        { group: ['**/extension/**', '**/trainer/**'], message: 'The server imports only src/shared.' },
      ]),
    },
  },
  {
    files: ['src/trainer/**/*.ts'],
    rules: {
      'no-restricted-imports': layer([
        { group: ['vscode', 'vscode-languageclient*', 'vscode-languageserver*'], message: 'The trainer is a plain child process.' },
        { group: ['**/extension/**', '**/server/**'], message: 'The trainer imports only src/shared.' },
      ]),
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': layer([
        { group: ['**/server/**', '**/trainer/**'], message: 'The extension talks to the server and trainer as processes, not imports.' },
      ]),
    },
  },
);
