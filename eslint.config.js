import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import rooms from './scripts/eslint-rooms.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'native/build/', 'e2e/cluster/.work/', '.reports/', 'coverage/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The rooms table of ../shared/DESIGN.md (scripts/eslint-rooms.mjs).
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { rooms },
    rules: { 'rooms/import-boundaries': ['error', { requireEntry: true }] },
  },
);
