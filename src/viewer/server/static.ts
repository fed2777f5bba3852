// The page: dist/viewer/ (built by scripts/build.mjs from src/viewer/web/), `/` being its
// index.html. Without a build, `/` says how to make one instead of a bare 404.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The project root: the nearest folder above this file with a package.json (sources and dist alike). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export function defaultWebRoot(): string {
  return join(projectRoot(), 'dist', 'viewer');
}

const NO_BUILD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>raft-otel viewer: page not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1>The viewer's page is not built</h1>
<p>The viewer is running (its API answers under <code>/api/</code>), but <code>dist/viewer/</code>,
the page, is missing. Build it from the project's folder:</p>
<pre>npm run build</pre>
<p>then reload this page. (<code>npm install</code> builds it too.)</p>
</body></html>
`;

/** Serves a GET for a static file; false when there is no such file (the caller answers 404). */
export async function serveStatic(webRoot: string, path: string, res: ServerResponse, head: boolean): Promise<boolean> {
  let rel: string;
  try {
    rel = decodeURIComponent(path);
  } catch {
    return false;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(webRoot, rel));
  if (file !== webRoot && !file.startsWith(webRoot + sep)) return false; // ../ out of the root
  let info;
  try {
    info = await stat(file);
  } catch {
    if (rel === '/index.html') {
      res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
      res.end(head ? undefined : NO_BUILD);
      return true;
    }
    return false;
  }
  if (!info.isFile()) return false;
  const body = head ? undefined : await readFile(file);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    // Hashed asset names can be cached for good; index.html must be fresh to point at them.
    'cache-control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
  return true;
}
