// `raft-otel exercise start N` records where an exercise begins (the time, and each node's state)
// in <data-dir>/exercises/NN.json; `exercise check N` looks only at what happened after it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StartRecord } from './types.js';

export function recordPath(dir: string, id: string): string {
  return join(dir, 'exercises', `${id}.json`);
}

export function saveStart(dir: string, record: StartRecord): string {
  const path = recordPath(dir, record.exercise);
  mkdirSync(join(dir, 'exercises'), { recursive: true });
  writeFileSync(path, JSON.stringify(record, null, 2) + '\n');
  return path;
}

/** The record, or null when there is none; a damaged one is an error saying what to do. */
export function loadStart(dir: string, id: string): StartRecord | null {
  const path = recordPath(dir, id);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const r = JSON.parse(text) as Partial<StartRecord>;
    if (r.exercise === id && typeof r.startedAt === 'number' && Array.isArray(r.nodes)) return r as StartRecord;
  } catch {
    /* reported below */
  }
  throw new Error(`${path} is damaged; run \`raft-otel exercise start ${id}\` again`);
}
