// The error table of README ("Errors") is the API's contract; src/node/errors.ts is the one place
// a status is chosen. This walks one against the other both ways: every code README lists answers
// with README's status, and every code the table knows is in README with its status (the too-long
// variants included), so neither can change without the other.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClientError, HTTP_STATUS, httpStatus, isErrorCode, TOO_LONG_STATUS } from '../../src/node/errors.js';

/** README's error table: [status, codes] per row (the 412 row has no code). */
function readmeRows(): { status: number; codes: string[] }[] {
  const text = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const start = text.indexOf('- **Errors**');
  const end = text.indexOf('\n- **', start + 1);
  expect(start, 'README has no "- **Errors**" section').toBeGreaterThan(-1);
  const rows = text
    .slice(start, end)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\| \d{3} \|/.test(l));
  return rows.map((l) => {
    const [status, codes] = l.split('|').slice(1, 3);
    return { status: Number(status.trim()), codes: [...codes.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]) };
  });
}

describe('error codes and their statuses', () => {
  const rows = readmeRows();

  it('reads README error table', () => {
    expect(rows.length).toBeGreaterThan(20);
    expect(rows).toContainEqual({ status: 504, codes: ['outcome_unknown'] });
  });

  it("answers every code README lists with README's status", () => {
    const wrong: string[] = [];
    for (const { status, codes } of rows)
      for (const code of codes) {
        if (!isErrorCode(code)) wrong.push(`${code} (README ${status}) is not in the table`);
        else if (httpStatus(code) !== status && httpStatus(code, true) !== status)
          wrong.push(`${code}: README ${status}, table ${httpStatus(code)}`);
      }
    expect(wrong).toEqual([]);
  });

  it('lists every code of the table in README, with its status and its too-long status', () => {
    const listed = new Set(rows.flatMap(({ status, codes }) => codes.map((c) => `${status} ${c}`)));
    const missing: string[] = [];
    for (const [code, status] of Object.entries(HTTP_STATUS))
      if (!listed.has(`${status} ${code}`)) missing.push(`${status} ${code}`);
    for (const [code, status] of Object.entries(TOO_LONG_STATUS))
      if (!listed.has(`${status} ${code}`)) missing.push(`${status} ${code} (too long)`);
    expect(missing).toEqual([]);
  });

  it('gives a ClientError the status of its code', () => {
    expect(new ClientError('not_leader', 'x').status).toBe(503);
    expect(new ClientError('bad_key', 'x').status).toBe(400);
    expect(new ClientError('bad_key', 'x', {}, true).status).toBe(414);
    expect(new ClientError('bad_value', 'x', {}, true).status).toBe(413);
    // A code without a too-long variant keeps its status.
    expect(new ClientError('bad_json', 'x', {}, true).status).toBe(400);
  });
});
