// Runs one exercise's check and the two safety facts, and prints the result: each thing verified
// with ✓ or ✗, the trace that proves it, and on ✗ what to do next. All hold: exit 0.
import { makeContext } from './context.js';
import type { Cluster } from './nodes.js';
import { safetyFindings } from './safety.js';
import { samplingWarnings } from './sampling.js';
import type { Exercise, Finding, StartRecord } from './types.js';

export interface CheckOutcome {
  exercise: string;
  title: string;
  since: number;
  /** True when the window begins at `exercise start`; false for the cluster's recent life. */
  fromStart: boolean;
  tracesUrl: string;
  findings: Finding[];
  safety: Finding[];
  warnings: string[];
  passed: boolean;
}

/** What a failed query or a crashed check becomes: a finding that says what went wrong. */
function failure(what: string, e: unknown): Finding {
  return { ok: false, what, next: e instanceof Error ? e.message : String(e) };
}

export async function runCheck(
  ex: Exercise,
  cluster: Cluster,
  tracesUrl: string,
  start: StartRecord | null,
  since: number,
): Promise<CheckOutcome> {
  const warnings: string[] = samplingWarnings(ex.needs, cluster.settings, ex.needsEveryWrite ?? false);
  const ctx = makeContext({ cluster, tracesUrl, since, start, warnings });
  let findings: Finding[];
  try {
    findings = await ex.check(ctx);
  } catch (e) {
    findings = [failure(`the check of exercise ${ex.id} could not run`, e)];
  }
  let safety: Finding[];
  try {
    safety = await safetyFindings(ctx);
  } catch (e) {
    safety = [failure('the safety facts could not be checked', e)];
  }
  const passed = findings.length > 0 && [...findings, ...safety].every((f) => f.ok);
  return {
    exercise: ex.id,
    title: ex.title,
    since,
    fromStart: start !== null,
    tracesUrl,
    findings,
    safety,
    warnings,
    passed,
  };
}

function line(f: Finding): string {
  const mark = f.ok ? '✓' : '✗';
  const lines = [`  ${mark} ${f.what}`];
  if (f.traceId) lines.push(`      trace ${f.traceId}`);
  if (!f.ok && f.next) lines.push(`      → ${f.next}`);
  return lines.join('\n');
}

export function render(o: CheckOutcome): string {
  const out = [
    `exercise ${o.exercise}: ${o.title}`,
    `  (spans ${o.fromStart ? `since \`exercise start\` at ${new Date(o.since).toLocaleTimeString()}` : 'of the last 24 hours'}, from ${o.tracesUrl})`,
    '',
    ...o.findings.map(line),
    '',
    'safety, on every run:',
    ...o.safety.map(line),
  ];
  if (o.warnings.length) out.push('', 'warnings:', ...o.warnings.map((w) => `  ! ${w}`));
  const all = [...o.findings, ...o.safety];
  const held = all.filter((f) => f.ok).length;
  out.push('');
  out.push(
    o.passed
      ? `all ${all.length} hold: exercise ${o.exercise} done.`
      : `${held} of ${all.length} hold. Spans reach the viewer in batches (every few seconds): if you have just done a step, check again in a moment.`,
  );
  return out.join('\n');
}
