// Lint: typescript-eslint's type-aware recommended rules, plus the few this codebase leans on.
// Formatting is prettier's job (`npm run format:check`), so no style rules live here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Generated code (npm run gen:proto), build output and run data are not ours to lint.
    ignores: ['src/transport/generated/**', 'dist/**', 'data/**', 'node_modules/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // Everything here runs on Node (the browser code, when it comes, gets its own block).
      globals: globals.node,
      // tsconfig.json includes every source, test, script and config file, so one project serves all.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its error: in a node that is a silent crash or a lost write.
      '@typescript-eslint/no-floating-promises': 'error',
      // Dead variables hide dead code; a leading underscore marks a parameter kept for its position.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Type-only imports vanish at runtime: saying so keeps import cycles and load cost honest.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The viewer's web page runs in a browser (its tsconfig: src/viewer/web/tsconfig.json).
    files: ['src/viewer/web/**'],
    languageOptions: { globals: globals.browser },
  },
);
