// `raft-otel certs --out DIR --nodes n1,n2,n3`: the certificates for mutual TLS between peers. A
// CA (made once, reused when DIR already has one, so a new member gets a certificate from the same
// CA), and for each node a key and a certificate whose CN and DNS subjectAltName are the node's
// id: a peer's certificate must name the node it speaks as. Keys are ECDSA P-256. The work is done
// by the openssl command line tool (Debian's `openssl` package), which every platform has.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const certsHelp = `raft-otel certs --out DIR --nodes n1,n2,n3 [--days N]

Makes the certificates for mutual TLS between peers (see README "Peer security"):
  DIR/ca.crt, DIR/ca.key       the cluster's CA (kept and reused if DIR already has one)
  DIR/<id>.crt, DIR/<id>.key   one per node: CN and subjectAltName DNS:<id>
Then start each node with --peer-tls-ca DIR/ca.crt --peer-tls-cert DIR/<id>.crt --peer-tls-key DIR/<id>.key
(RAFT_PEER_TLS_CA, RAFT_PEER_TLS_CERT, RAFT_PEER_TLS_KEY). Keep ca.key off the nodes.
Needs the openssl command (apt-get install openssl).

Options:
  --out DIR      where to write (created if needed)
  --nodes IDS    comma-separated node ids
  --days N       validity of node certificates (default 825)
`;

function openssl(args: string[], what: string): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run openssl (${r.error.message}); install it (apt-get install openssl)`);
  if (r.status !== 0) throw new Error(`openssl failed while ${what}: ${r.stderr.trim()}`);
}

/** Makes (or reuses) the CA in `dir` and a certificate for each id; returns the files written. */
export function makeCerts(dir: string, ids: string[], days = 825): string[] {
  for (const id of ids)
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new Error(`node id "${id}" must be letters, digits, '.', '_' or '-'`);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const caKey = join(dir, 'ca.key');
  const caCrt = join(dir, 'ca.crt');
  if (!existsSync(caKey) || !existsSync(caCrt)) {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        caKey,
        '-out',
        caCrt,
        '-subj',
        '/CN=raft-otel peer CA',
        '-days',
        '3650',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      'making the CA',
    );
    chmodSync(caKey, 0o600);
    written.push(caCrt, caKey);
  }
  for (const id of ids) {
    const key = join(dir, `${id}.key`);
    const csr = join(dir, `${id}.csr`);
    const crt = join(dir, `${id}.crt`);
    const ext = join(dir, `${id}.ext`);
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        // One certificate serves both ends: a node is a server to its peers and a client of them.
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=DNS:${id}`,
      ].join('\n') + '\n',
    );
    try {
      openssl(
        [
          'req',
          '-new',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          key,
          '-out',
          csr,
          '-subj',
          `/CN=${id}`,
        ],
        `making the key of ${id}`,
      );
      chmodSync(key, 0o600);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          csr,
          '-CA',
          caCrt,
          '-CAkey',
          caKey,
          '-set_serial',
          `0x${Date.now().toString(16)}${ids.indexOf(id)}`,
          '-days',
          String(days),
          '-extfile',
          ext,
          '-out',
          crt,
        ],
        `signing the certificate of ${id}`,
      );
    } finally {
      rmSync(csr, { force: true });
      rmSync(ext, { force: true });
    }
    written.push(crt, key);
  }
  return written;
}

export function certsCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      nodes: { type: 'string' },
      days: { type: 'string', default: '825' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(certsHelp);
    return 0;
  }
  if (!values.out || !values.nodes) throw new Error('--out DIR and --nodes n1,n2,... are required');
  const days = Number(values.days);
  if (!Number.isSafeInteger(days) || days <= 0)
    throw new Error(`--days ${values.days}: expected a positive whole number`);
  const ids = values.nodes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!ids.length) throw new Error('--nodes lists no node id');
  const files = makeCerts(resolve(values.out), ids, days);
  for (const f of files) console.log(`wrote ${f}`);
  return 0;
}
