// Generates TypeScript types for proto/raft.proto with @grpc/proto-loader's generator (no protoc
// download), then adds the `.js` extensions Node's ES module resolution requires.
//   node scripts/gen-proto.mjs [outDir]     (default: src/transport/generated)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const outDir = process.argv[2] ?? 'src/transport/generated';
rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js',
    '--longs=Number',
    '--enums=String',
    '--defaults',
    '--arrays',
    '--objects',
    '--includeComments',
    '--grpcLib=@grpc/grpc-js',
    `--outDir=${outDir}`,
    'proto/raft.proto',
  ],
  { stdio: 'inherit' },
);

/** @param {string} dir */
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) {
      const text = readFileSync(path, 'utf8').replace(/from '(\.\.?\/[^']+?)(?<!\.js)'/g, "from '$1.js'");
      writeFileSync(path, text);
    }
  }
}
walk(outDir);
