// Lint: typescript-eslint's type-aware recommended rules, plus the few this codebase leans on.
// Formatting is prettier's job (`npm run format:check`), so no style rules live here.
import js from '@eslint/js';
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
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs', 'bin/*.mjs', 'scripts/*.mjs', '.ci/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its error: in a node that is a silent crash or a lost write.
      '@typescript-eslint/no-floating-promises': 'error',
      // Dead variables hide dead code; a leading underscore marks a parameter kept for its position.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Type-only imports vanish at runtime: saying so keeps import cycles and load cost honest.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
);
