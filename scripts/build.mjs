// The fast build: src/**/*.ts -> dist/src/**/*.js with esbuild (type-stripping only, one output
// file per source file, same layout as `tsc -p tsconfig.build.json`), so the command line and the
// nodes run plain JavaScript instead of compiling TypeScript at every start. Type checking stays
// with `npm run typecheck`.
//
// The viewer's web page (src/viewer/web/, Preact + d3 in TSX) is bundled apart, for the browser:
// dist/viewer/index.html and dist/viewer/assets/app.{js,css} (minified, with source maps), which
// the viewer server serves. It is rebuilt with the rest whenever anything under src/ changes.
//
// It rebuilds only when something under src/ (or this script) is newer than the last build, so
// editing src/ and re-running `npm start` just works. `bin/raft-otel.mjs` calls ensureBuilt() on
// every run (a stat of each source file: a few milliseconds); `npm install` runs it as `prepare`.
//
//   node scripts/build.mjs                  build if stale
//   node scripts/build.mjs --force          build now
//   node scripts/build.mjs --if-possible    as `prepare`: skip quietly without src/ or esbuild
//                                           (a production install, or Docker's first layer)
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = '.build-stamp';
/** The web page's sources: bundled for the browser, not transpiled file by file for Node. */
const WEB = join('src', 'viewer', 'web');
const LOCK = '.build-lock';
/** A lock older than this was left by a build that died (when its pid cannot tell: see staleLock). */
const STALE_LOCK_MS = 60_000;
/** After this long waiting for another build, say so (once). */
const SAY_WAITING_MS = 2000;

/** Every .ts file under dir, and the newest modification time of those files and their folders
 *  (a folder's time changes when a file is added, removed or renamed in it). */
/** @param {string} dir @param {string[]} files @param {{ ms: number }} newest
 *  @returns {{ files: string[], newest: number }} */
function sources(dir, files = [], newest = { ms: statSync(dir).mtimeMs }) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const web = path.split(/[\\/]/).slice(-3).join('/') === 'src/viewer/web';
    if (entry.isDirectory()) {
      newest.ms = Math.max(newest.ms, statSync(path).mtimeMs);
      if (web) webNewest(path, newest);
      else sources(path, files, newest);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      files.push(path);
      newest.ms = Math.max(newest.ms, statSync(path).mtimeMs);
    }
  }
  return { files, newest: newest.ms };
}

/** The newest modification time under the web page's folder (every file: .tsx, .css, .html).
 *  @param {string} dir @param {{ ms: number }} newest */
function webNewest(dir, newest) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest.ms = Math.max(newest.ms, statSync(path).mtimeMs);
    if (entry.isDirectory()) webNewest(path, newest);
  }
}

/** Bundles the web page into dist/viewer/. One entry, one JS and one CSS file: the page loads in
 *  two requests and works offline (no CDN).
 *  @param {typeof import('esbuild')} esbuild @param {string} root */
async function buildWeb(esbuild, root) {
  const web = join(root, WEB);
  if (!existsSync(join(web, 'main.tsx'))) return 0;
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(WEB, 'main.tsx')],
    entryNames: 'app',
    outdir: join('dist', 'viewer', 'assets'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // What Chromium, Firefox and Safari of the last two years all run.
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(WEB, 'tsconfig.json'),
    minify: true,
    sourcemap: 'linked',
    sourcesContent: true,
    write: false,
    logLevel: 'error',
  });
  const outputs = [
    ...result.outputFiles,
    { path: join(root, 'dist', 'viewer', 'index.html'), contents: readFileSync(join(web, 'index.html')) },
  ];
  for (const out of outputs) {
    mkdirSync(dirname(out.path), { recursive: true });
    const tmp = `${out.path}.${process.pid}.tmp`;
    writeFileSync(tmp, out.contents);
    renameSync(tmp, out.path);
  }
  return outputs.length;
}

/** @param {string} root */
function stampMs(root) {
  try {
    return statSync(join(root, 'dist', STAMP)).mtimeMs;
  } catch {
    return -1;
  }
}

/** True when dist/ holds a build at least as new as every source file.
 *  @param {string} root */
export function isFresh(root = ROOT) {
  const built = stampMs(root);
  if (built < 0) return false;
  if (!existsSync(join(root, 'src'))) return true; // an install without sources runs what it has
  const { newest } = sources(join(root, 'src'));
  return newest <= built && statSync(fileURLToPath(import.meta.url)).mtimeMs <= built;
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    return null;
  }
}

/** True when tsx can run the sources in this install. */
async function haveTsx() {
  try {
    await import('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

/** @param {number} pid */
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
}

/** The pid a build lock names, or 0 (being written, or written by an older version).
 *  @param {string} lock */
export function lockPid(lock) {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** Whether a build lock was left by a build that is gone: its pid is dead (a Ctrl-C during a
 *  build), or, when it names no pid, it is older than STALE_LOCK_MS. A missing lock is not stale.
 *  @param {string} lock @param {number} now */
export function staleLock(lock, now = Date.now()) {
  let mtimeMs;
  try {
    mtimeMs = statSync(lock).mtimeMs;
  } catch {
    return false;
  }
  const pid = lockPid(lock);
  if (pid) return !pidAlive(pid);
  return now - mtimeMs > STALE_LOCK_MS;
}

/** Transpiles src/ into dist/. Each file is written to a temporary name and renamed, so a process
 *  starting meanwhile reads either the old file or the new one, never half of one.
 *  @param {string} root */
export async function build(root = ROOT) {
  const esbuild = await loadEsbuild();
  if (!esbuild) throw new Error('esbuild is not installed: run `npm install`');
  const { files } = sources(join(root, 'src'));
  const t0 = performance.now();
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: files.map((f) => relative(root, f)),
    outdir: 'dist',
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // With NODE_OPTIONS=--enable-source-maps, stack traces point at the TypeScript. Not on by
    // default: Node then parses the source map of every module it loads (OTel's included), which
    // cost a node about 40 ms of its start-up.
    sourcemap: 'linked',
    sourcesContent: false,
    write: false,
    logLevel: 'error',
  });
  for (const out of result.outputFiles) {
    mkdirSync(dirname(out.path), { recursive: true });
    const tmp = `${out.path}.${process.pid}.tmp`;
    writeFileSync(tmp, out.contents);
    renameSync(tmp, out.path);
  }
  const webFiles = await buildWeb(esbuild, root);
  writeFileSync(join(root, 'dist', STAMP), `${new Date().toISOString()} ${files.length} files\n`);
  return { files: files.length, webFiles, ms: performance.now() - t0 };
}

/** Builds unless dist/ is fresh; several processes starting at once build once (a lock file).
 *  Returns the compiled CLI entry point, or null when there is none and none can be built
 *  (no esbuild, no dist/): the caller then runs the TypeScript sources.
 *  @param {string} root @returns {Promise<string | null>} */
export async function ensureBuilt(root = ROOT) {
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  if (isFresh(root)) return main;
  if (!existsSync(join(root, 'src'))) return existsSync(main) ? main : null;
  if (!(await loadEsbuild())) {
    // src/ changed since the build and it cannot be rebuilt: run the sources (tsx) rather than a
    // build that no longer matches them; with neither, the old build, but never silently.
    if ((await haveTsx()) || !existsSync(main)) return null;
    process.stderr.write(
      'raft-otel: warning: src/ changed since dist/ was built, and neither esbuild nor tsx is installed to run ' +
        'the new sources: running the OLD build in dist/. `npm install` fixes this.\n',
    );
    return main;
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  const lock = join(root, 'dist', LOCK);
  const started = Date.now();
  const deadline = started + 2 * STALE_LOCK_MS;
  let said = false;
  for (;;) {
    let fd;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Someone else is building: wait for it, then use its build. A lock whose builder is gone
      // (its pid is dead: a Ctrl-C mid-build) is taken over at once.
      if (staleLock(lock)) rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new Error(`waited too long for another build (lock file ${lock})`);
      if (!said && Date.now() - started > SAY_WAITING_MS) {
        said = true;
        const pid = lockPid(lock);
        process.stderr.write(
          `raft-otel: waiting for another build of dist/${pid ? ` (pid ${pid})` : ''} to finish (lock file ${lock})\n`,
        );
      }
      await sleep(25);
      if (isFresh(root)) return main;
      continue;
    }
    try {
      // Whose lock this is: a waiting process that finds this pid dead takes the lock over.
      writeSync(fd, `${process.pid}\n`);
      if (!isFresh(root)) await build(root);
      return main;
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

/** The command line: `node scripts/build.mjs [--force | --if-possible]`. Also what `prepare`
 *  calls (through an inline `node -e` that first checks this file exists: Docker's first layer
 *  runs `npm ci` with package.json alone).
 *  @param {string | undefined} arg */
export async function run(arg) {
  try {
    if (arg === '--if-possible' && (!existsSync(join(ROOT, 'src')) || !(await loadEsbuild()))) {
      console.log('build: skipped (no src/ or no esbuild here)');
    } else if (arg === '--force') {
      const r = await build();
      console.log(`build: ${r.files} files -> dist/, the web page -> dist/viewer/ in ${r.ms.toFixed(0)} ms`);
    } else {
      const fresh = isFresh();
      await ensureBuilt();
      console.log(fresh ? 'build: dist/ is up to date' : 'build: dist/ rebuilt');
    }
  } catch (e) {
    // esbuild has already printed each error with its file and line.
    console.error(`build failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run(process.argv[2]);
