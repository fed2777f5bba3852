// `raft-otel secret --out FILE`: makes the cluster secret peers authenticate with, if the file does
// not exist yet (so `up` on an existing data dir, or compose's init service on every `up`, keeps
// the secret the nodes already share). The file is created with mode 0600 and never printed.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { MIN_SECRET_LENGTH } from '../transport/peer-auth.js';
import { adminTokenPath } from './credentials.js';

export const secretHelp = `raft-otel secret --out FILE

Writes a new random cluster secret (32 bytes, hex) to FILE with mode 0600, unless FILE already
holds one: then it is kept. Every node of a cluster reads the same file with --cluster-secret-file
FILE (RAFT_CLUSTER_SECRET_FILE). \`raft-otel up\` and docker-compose.yml do this for you.
`;

/** Returns FILE's path after making sure it holds a usable secret (creating it if absent). */
export function ensureClusterSecret(file: string): string {
  return ensureSecretFile(file, 'cluster secret', MIN_SECRET_LENGTH);
}

/** Returns FILE's path after making sure it holds a random `what` (32 bytes, hex), made once with
 *  mode 0600 and kept after, so every run of a cluster shares it. */
export function ensureSecretFile(file: string, what: string, minLength: number): string {
  if (existsSync(file)) {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length < minLength)
      throw new Error(
        `${file} holds no usable ${what} (${existing.length} characters, at least ${minLength} needed); delete it to make a new one`,
      );
    return file;
  }
  mkdirSync(dirname(file), { recursive: true });
  // 'wx': never overwrite a secret another process created a moment ago.
  writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return file;
}

/** Writes `value` to FILE with mode 0600, replacing what was there (through a new file, so the
 *  value never sits in a file anyone else could read, not even for a moment). Returns the path. */
export function writeSecretFile(file: string, value: string): string {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, value.trim() + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
  return file;
}

/** The _FILE variables for the nodes `up` starts in dataDir: the ones the environment names, else
 *  the data dir's files (made now from the environment's value, or at random when absent). */
export function credentialFiles(dataDir: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const secret =
    env.RAFT_CLUSTER_SECRET_FILE ||
    (env.RAFT_CLUSTER_SECRET
      ? writeSecretFile(join(dataDir, 'cluster-secret'), env.RAFT_CLUSTER_SECRET)
      : ensureSecretFile(join(dataDir, 'cluster-secret'), 'cluster secret', MIN_SECRET_LENGTH));
  const admin =
    env.RAFT_ADMIN_TOKEN_FILE ||
    (env.RAFT_ADMIN_TOKEN
      ? writeSecretFile(adminTokenPath(dataDir), env.RAFT_ADMIN_TOKEN)
      : ensureSecretFile(adminTokenPath(dataDir), 'admin token', 16));
  return { RAFT_CLUSTER_SECRET_FILE: secret, RAFT_ADMIN_TOKEN_FILE: admin };
}

export function secretCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(secretHelp);
    return 0;
  }
  if (!values.out) throw new Error('--out FILE is required');
  const existed = existsSync(values.out);
  ensureClusterSecret(values.out);
  console.log(existed ? `kept the cluster secret in ${values.out}` : `wrote a new cluster secret to ${values.out}`);
  return 0;
}
