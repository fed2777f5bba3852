#!/usr/bin/env node
// Runs the whole test suite N times, as CI runs it, to show it does not flake:
//   node scripts/repeat-suite.mjs [--runs N] [--run-timeout-min M] [--install-each] [--keep-logs DIR] [-- FILTERS]
//
// Each run is a fresh `git clone` of the current commit (uncommitted changes are not in it) in a
// temporary directory, run with CI=true and its own TMPDIR, `npm test` then reading vitest's JSON
// report (.vitest-results.json). Dependencies: by default `npm ci` runs once, in a first clone,
// and every run's clone links that node_modules (the lockfile is the same for all: installing 20
// times would add minutes per run and test npm, not the suite); --install-each runs `npm ci` in
// every clone instead.
//
// Per run it prints pass/fail, the duration, the test counts, and for each failed test its file,
// name, the first lines of its error and every seed its file printed (lines with "seed", such as
// "[seed] writers: 123 (replay: RAFT_TEST_SEED=123 ...)"), so a failure can be replayed. It also
// reports processes of the run still alive after it (a test that leaks a node) and kills them.
// The last line is a summary. Bounded: at most 200 runs, each killed after --run-timeout-min
// (default 15); every temporary directory is removed, also on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import console from 'node:console';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';

/** @typedef {{ code: number | null, signal: string | null, out: string, timedOut: boolean }} RunResult */
/** @typedef {{ status: string, title: string, fullName?: string, failureMessages?: string[] }} Assertion */
/** @typedef {{ name: string, status: string, message?: string, assertionResults?: Assertion[] }} FileResult */
/** @typedef {{ success?: boolean, numPassedTests?: number, testResults?: FileResult[] }} VitestReport */
/** @typedef {{ runs: string, 'run-timeout-min': string, 'install-each': boolean, 'keep-logs'?: string, help?: boolean }} Options */

const USAGE = `node scripts/repeat-suite.mjs [--runs N] [--run-timeout-min M] [--install-each] [--keep-logs DIR] [-- FILTERS]

  --runs N             how many runs (default 20, at most 200)
  --run-timeout-min M  a run still going after M minutes is killed and counted as failed (default 15)
  --install-each       npm ci in every clone (default: once, shared by every run)
  --keep-logs DIR      keep the full output of every failed run in DIR
  -- FILTERS           passed to vitest (e.g. -- test/cluster/faults.test.ts): repeat part of the suite
`;

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`repeat-suite: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** @type {Options} */
let opts;
/** @type {string[]} */
let filters = [];
try {
  const parsed = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string', default: '20' },
      'run-timeout-min': { type: 'string', default: '15' },
      'install-each': { type: 'boolean', default: false },
      'keep-logs': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  opts = parsed.values;
  filters = parsed.positionals;
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
if (opts.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const runs = Number(opts.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 200)
  fail(`--runs must be a whole number from 1 to 200, not ${opts.runs}`);
const runTimeoutMs = Number(opts['run-timeout-min']) * 60_000;
if (!(runTimeoutMs >= 60_000 && runTimeoutMs <= 120 * 60_000))
  fail(`--run-timeout-min must be from 1 to 120, not ${opts['run-timeout-min']}`);

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** @param {string[]} args */
const git = (...args) => {
  const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) fail(`git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
};
const commit = git('rev-parse', 'HEAD');
if (git('status', '--porcelain'))
  console.log('note: the work tree has uncommitted changes; the runs test the last commit only');

const base = mkdtempSync(join(tmpdir(), 'raft-repeat-'));
/** @type {import('node:child_process').ChildProcess | null} */
let current = null; // the running suite's process, to kill on Ctrl-C
const cleanUp = () => {
  if (current) killGroup(current);
  for (const p of leftovers(base)) killPid(p.pid);
  // Processes just killed may still be closing files in it: retry a removal that races them.
  rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.log(`\n${sig}: stopping the run and removing ${base}`);
    cleanUp();
    process.exit(130);
  });
}

/** @param {number} pid */
function killPid(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** @param {import('node:child_process').ChildProcess} child */
function killGroup(child) {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Runs a command in its own process group; resolves with its exit code and output, which also
 *  goes to `logFile` as it comes (to follow a run with tail -f).
 *  @param {string} cmd @param {string[]} args @param {string} cwd @param {NodeJS.ProcessEnv} env
 *  @param {number} timeoutMs @param {string} [logFile] @returns {Promise<RunResult>} */
function run(cmd, args, cwd, env, timeoutMs, logFile) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let out = '';
    const take = (/** @type {Buffer} */ d) => {
      out += d.toString();
      if (logFile) appendFileSync(logFile, d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      done({ code, signal, out, timedOut });
    });
  });
}

/** @param {string} dir */
function clone(dir) {
  const r = spawnSync('git', ['clone', '--quiet', '--no-checkout', repo, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git clone failed: ${r.stderr}`);
  const c = spawnSync('git', ['-C', dir, 'checkout', '--quiet', '--detach', commit], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`git checkout ${commit} failed: ${c.stderr}`);
}

/** @param {string} dir */
async function npmCi(dir) {
  const r = await run('npm', ['ci', '--no-audit', '--no-fund'], dir, { ...process.env }, 15 * 60_000);
  if (r.code !== 0) throw new Error(`npm ci in ${dir} failed:\n${r.out.slice(-2000)}`);
}

// eslint-disable-next-line no-control-regex -- the output's colour codes are ANSI escapes
const plain = (/** @type {string} */ s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Seed lines by test file, from vitest's "stdout | <file> > <suite> > <test>" blocks, each with
 *  the test that printed it ("<suite> <test>", as the JSON report's fullName has it).
 *  @param {string} output @returns {Map<string, { test: string, line: string }[]>} */
function seedsByFile(output) {
  /** @type {Map<string, { test: string, line: string }[]>} */
  const seeds = new Map();
  /** @type {string | null} */
  let file = null;
  let test = '';
  for (const line of plain(output).split('\n')) {
    const header = /^(?:stdout|stderr) \| (\S+)(?: > (.*))?$/.exec(line);
    if (header) {
      file = header[1];
      test = (header[2] ?? '').split(' > ').join(' ');
      continue;
    }
    if (file && /\bseeds?\b/i.test(line)) seeds.set(file, [...(seeds.get(file) ?? []), { test, line: line.trim() }]);
  }
  return seeds;
}

/** Processes whose command line names the run's directory: left over by the suite.
 *  @param {string} dir */
function leftovers(dir) {
  /** @type {{ pid: number, cmd: string }[]} */
  const found = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir) && Number(pid) !== process.pid) found.push({ pid: Number(pid), cmd: cmd.slice(0, 160) });
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

/** @type {{ ok: boolean, seconds: number }[]} */
const results = [];
try {
  const what = filters.length ? `vitest ${filters.join(' ')}` : 'the whole suite';
  console.log(`repeat-suite: ${runs} runs of ${what} at ${commit.slice(0, 12)}, CI=true, in ${base}`);
  let shared = null;
  if (!opts['install-each']) {
    shared = join(base, 'deps');
    const t0 = Date.now();
    clone(shared);
    await npmCi(shared);
    console.log(`npm ci once for all runs: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  for (let i = 1; i <= runs; i++) {
    const dir = join(base, `run-${i}`);
    clone(dir);
    if (shared) symlinkSync(join(shared, 'node_modules'), join(dir, 'node_modules'), 'dir');
    else await npmCi(dir);
    const tmp = join(dir, '.tmp');
    mkdirSync(tmp);
    const env = { ...process.env, CI: 'true', TMPDIR: tmp, FORCE_COLOR: '0' };
    const logFile = join(base, `run-${i}.log`);
    console.log(`run ${i}/${runs}: started; its output goes to ${logFile}`);
    const t0 = Date.now();
    const args = ['test', ...(filters.length ? ['--', ...filters] : [])];
    const r = await run('npm', args, dir, env, runTimeoutMs, logFile);
    const seconds = (Date.now() - t0) / 1000;
    const left = leftovers(dir);
    for (const p of left) killPid(p.pid);
    /** @type {VitestReport | null} */
    let report = null;
    const reportFile = join(dir, '.vitest-results.json');
    if (existsSync(reportFile)) {
      try {
        /** @type {unknown} */
        const raw = JSON.parse(readFileSync(reportFile, 'utf8'));
        report = /** @type {VitestReport} */ (raw);
      } catch {
        report = null; // cut short: the run did not finish
      }
    }
    /** @type {{ file: string, name: string, error: string }[]} */
    const failures = [];
    for (const f of report?.testResults ?? []) {
      const file = f.name.startsWith(dir) ? f.name.slice(dir.length + 1) : f.name;
      const failed = (f.assertionResults ?? []).filter((a) => a.status === 'failed');
      for (const a of failed)
        failures.push({ file, name: a.fullName ?? a.title, error: (a.failureMessages ?? [])[0] ?? '' });
      if (f.status === 'failed' && failed.length === 0)
        failures.push({ file, name: '(the file failed to run)', error: f.message ?? '' });
    }
    const passedTests = report?.numPassedTests ?? 0;
    const ok = r.code === 0 && !r.timedOut && report?.success === true && failures.length === 0;
    if (!ok && failures.length === 0)
      failures.push({
        file: '-',
        name: r.timedOut
          ? `the run timed out after ${runTimeoutMs / 60_000} min`
          : `npm test exited with ${r.code ?? r.signal}`,
        error: plain(r.out).slice(-1500),
      });
    results.push({ ok, seconds });
    console.log(
      `run ${i}/${runs}: ${ok ? 'PASS' : 'FAIL'}  ${seconds.toFixed(0)} s  ${passedTests} passed, ${failures.length} failed` +
        (left.length ? `  (${left.length} processes left running, killed: ${left.map((p) => p.pid).join(', ')})` : ''),
    );
    if (!ok) {
      const seeds = seedsByFile(r.out);
      for (const f of failures) {
        console.log(`  FAILED ${f.file} > ${f.name}`);
        const firstLines = plain(f.error)
          .split('\n')
          .filter((l) => l.trim() && !/^\s*at /.test(l))
          .slice(0, 6)
          .join('\n      ');
        if (firstLines) console.log(`      ${firstLines}`);
        // The seeds the failed test printed; if it printed none, every seed of its file (a seed
        // drawn in a beforeAll shapes every test of the file).
        const ofFile = seeds.get(f.file) ?? [];
        const ofTest = ofFile.filter((x) => x.test === f.name);
        for (const x of ofTest.length ? ofTest : ofFile) console.log(`    seed: ${x.line}`);
      }
      const keep = opts['keep-logs'];
      if (keep) {
        mkdirSync(keep, { recursive: true });
        const log = join(resolve(keep), `run-${i}.log`);
        writeFileSync(log, plain(r.out));
        console.log(`  output: ${log}`);
      }
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    rmSync(logFile, { force: true });
  }
} finally {
  cleanUp();
}

const times = results.map((r) => r.seconds).sort((a, b) => a - b);
const passed = results.filter((r) => r.ok).length;
const median = times.length ? times[Math.floor((times.length - 1) / 2)] : 0;
console.log(
  `repeat-suite: ${results.length} runs, ${passed} passed, ${results.length - passed} failed; ` +
    `duration min ${times[0]?.toFixed(0)} s, median ${median.toFixed(0)} s, max ${times.at(-1)?.toFixed(0)} s; commit ${commit.slice(0, 12)}`,
);
process.exit(passed === results.length ? 0 : 1);
