#!/usr/bin/env node
// The `raft-otel` command (and what `npm start` and `npm run raft-otel` run). It runs the CLI in
// this very process, so a command costs one Node start-up and the pid a user sees is the command:
//   - the compiled JavaScript in dist/, rebuilt first if anything under src/ changed since the
//     last build (esbuild, a fraction of a second; see scripts/build.mjs);
//   - without esbuild, when src/ changed since the build or there is none (an unusual install),
//     the TypeScript sources through tsx, registered in-process (with neither esbuild nor tsx, an
//     old build still runs, with a warning).
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, ROOT } from '../scripts/build.mjs';

/** @typedef {{ main: (argv: string[]) => Promise<number> }} Cli */

/** The URL of the CLI's entry module: compiled if possible, else the sources under tsx.
 *  @returns {Promise<string>} */
async function entry() {
  let compiled;
  try {
    compiled = await ensureBuilt(ROOT);
  } catch (e) {
    // A syntax error in src/: esbuild printed each error with its file and line above.
    process.stderr.write(
      `raft-otel: src/ does not compile (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); fix the error shown above and run again\n`,
    );
    process.exit(1);
  }
  if (compiled) return pathToFileURL(compiled).href;
  const { register } = await import('tsx/esm/api');
  register();
  return pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href;
}

/** @param {unknown} mod @returns {Cli} */
function asCli(mod) {
  if (typeof (/** @type {{ main?: unknown }} */ (mod).main) !== 'function') throw new Error('the CLI has no main()');
  return /** @type {Cli} */ (mod);
}

const cli = asCli(await import(await entry()));
process.exitCode = await cli.main(process.argv.slice(2));
