// Peer authentication, in the manner of etcd's peer security: a node acts on a message only when
// the caller proved it belongs to the cluster, and that proof is checked BEFORE the message is
// decoded, so a stranger can neither change any state nor make the node spend time decoding.
//
//  - cluster secret: every call carries the per-cluster secret in gRPC metadata; the server's
//    interceptor compares it in constant time when the call's headers arrive. grpc-js reads a
//    call's message only after its handler asks for it (the stream stays paused until then), and a
//    call the interceptor ends is cancelled: its bytes are discarded, never deserialized.
//  - mutual TLS (optional, for clusters across hosts, like etcd's --peer-client-cert-auth and
//    --peer-trusted-ca-file): both sides present a certificate signed by the cluster's CA, and the
//    caller's certificate must name the node it claims to be (CN or a DNS subjectAltName), like
//    etcd's --peer-cert-allowed-cn.
//
// Every call also names its sender in the `raft-from` header; the server checks that the decoded
// message's `from` is that same node, so a certificate for n2 cannot speak as n1.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  credentials,
  type Metadata,
  ServerCredentials,
  ServerInterceptingCall,
  type ChannelCredentials,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { GRPC_STATUS } from '../node/errors.js';

export const SECRET_HEADER = 'raft-cluster-secret';
export const FROM_HEADER = 'raft-from';
/** Shortest secret accepted: `raft-otel up` makes 32 random bytes (64 hex characters). */
export const MIN_SECRET_LENGTH = 16;

export interface PeerTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface PeerSecurity {
  /** The cluster secret, or null when peers are authenticated by mTLS alone (or not at all). */
  secret: string | null;
  /** PEM contents of the CA, this node's certificate and key, or null without mTLS. */
  tls: { ca: Buffer; cert: Buffer; key: Buffer } | null;
}

export const INSECURE_PEERS: PeerSecurity = { secret: null, tls: null };

export function loadPeerTls(files: PeerTlsFiles): PeerSecurity['tls'] {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(
        `cannot read the peer TLS ${what} ${path} (${(e as Error).message}); make them with raft-otel certs`,
        { cause: e },
      );
    }
  };
  return { ca: read('CA', files.ca), cert: read('certificate', files.cert), key: read('key', files.key) };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparison (of fixed-length digests, so the secret's length does not leak either). */
export function secretMatches(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}

/** The names a peer certificate vouches for: its CN and its DNS subjectAltNames. */
export function certificateNames(cert: PeerCertificate | undefined): string[] {
  if (!cert) return [];
  const names: string[] = [];
  // Node types CN as a string; with several CN attributes it is an array at run time.
  const cn: unknown = cert.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...cn.filter((x): x is string => typeof x === 'string'));
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*DNS:(.+)$/.exec(part);
    if (m) names.push(m[1].trim());
  }
  return [...new Set(names)];
}

function header(md: Metadata, name: string): string {
  const v = md.get(name);
  return v.length === 1 && typeof v[0] === 'string' ? v[0] : '';
}

/** Why a call's headers do not authenticate it, or null when they do. Never echoes the secret. */
export function authProblem(
  security: PeerSecurity,
  md: Metadata,
  peerCert: PeerCertificate | undefined,
): string | null {
  const from = header(md, FROM_HEADER);
  if (!from) return `no ${FROM_HEADER} header: not a raft-otel peer`;
  if (security.secret !== null) {
    const given = header(md, SECRET_HEADER);
    if (!given) return 'no cluster secret: peers must present the cluster secret (see README "Peer security")';
    if (!secretMatches(security.secret, given)) return 'wrong cluster secret';
  }
  if (security.tls) {
    const names = certificateNames(peerCert);
    if (!names.includes(from))
      return `the client certificate names ${names.join(', ') || 'nobody'}, not ${from}: a peer may only speak as itself`;
  }
  return null;
}

/** The interceptor that authenticates each call from its headers, before its message is read. */
export function authInterceptor(
  security: PeerSecurity,
  onRefused: (reason: string, peer: string) => void,
): ServerInterceptor {
  return (_method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (md, pass) => {
            const problem = authProblem(security, md, call.getAuthContext().sslPeerCertificate);
            if (problem === null) return pass(md);
            onRefused(problem, call.getPeer());
            // Ending the call here cancels it: its message is discarded unread.
            call.sendStatus({ code: GRPC_STATUS.unauthenticated, details: `peer not authenticated: ${problem}` });
          },
        }),
    });
}

/** The metadata headers that authenticate an outgoing call from `from`. */
export function authenticate(md: Metadata, security: PeerSecurity, from: string): void {
  md.set(FROM_HEADER, from);
  if (security.secret !== null) md.set(SECRET_HEADER, security.secret);
}

/** Whether the decoded message's sender is the one the headers (and certificate) vouched for. */
export function senderMatches(md: Metadata, from: string): boolean {
  return header(md, FROM_HEADER) === from;
}

export function serverCredentials(security: PeerSecurity): ServerCredentials {
  if (!security.tls) return ServerCredentials.createInsecure();
  const { ca, cert, key } = security.tls;
  return ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true);
}

/** Credentials for calls to `peer`: with mTLS, its certificate must name it (not its address). */
export function channelCredentials(security: PeerSecurity, peer: string): ChannelCredentials {
  if (!security.tls) return credentials.createInsecure();
  const { ca, cert, key } = security.tls;
  return credentials.createSsl(ca, key, cert, {
    checkServerIdentity: (_host, c) =>
      certificateNames(c).includes(peer)
        ? undefined
        : new Error(`the server's certificate names ${certificateNames(c).join(', ') || 'nobody'}, not ${peer}`),
  });
}
