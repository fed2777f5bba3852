// A process that is not a member of the cluster, talking to a node's gRPC port the way an
// attacker on the same network could: messages built by hand from proto/raft.proto, with or
// without the cluster secret, a certificate, or even a valid protobuf body.
import { Client, credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { raftProto } from '../../src/transport/proto.js';
import { FROM_HEADER, SECRET_HEADER } from '../../src/transport/peer-auth.js';

export interface Forged {
  code: number;
  details: string;
  reply: unknown;
}

export interface ForgeOptions {
  /** The cluster secret to present, if any. */
  secret?: string;
  /** The node the raft-from header claims (default: the message header's `from`). */
  claim?: string;
  /** TLS material: CA to trust, the client's certificate and key, the server name to expect. */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer; server: string };
}

function creds(o: ForgeOptions): ChannelCredentials {
  if (!o.tls) return credentials.createInsecure();
  const { ca, key, cert, server } = o.tls;
  return credentials.createSsl(ca, key, cert, {
    checkServerIdentity: (_host, c) => (c.subject?.CN === server ? undefined : new Error(`not ${server}`)),
  });
}

function metadata(o: ForgeOptions, from: string): Metadata {
  const md = new Metadata();
  md.set(FROM_HEADER, o.claim ?? from);
  if (o.secret !== undefined) md.set(SECRET_HEADER, o.secret);
  return md;
}

const OPTIONS = { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 };

/** Calls `method` on the node at `address` with a request object (the shapes of proto/raft.proto). */
export function forge(
  address: string,
  method: 'RequestVote' | 'AppendEntries' | 'InstallSnapshot' | 'TimeoutNow' | 'ReadIndex',
  request: { header: { clusterId: string; from: string; to: string; term: number } } & Record<string, unknown>,
  o: ForgeOptions = {},
): Promise<Forged> {
  const Ctor = raftProto().raft.Raft;
  const client = new Ctor(address, creds(o), OPTIONS);
  return new Promise<Forged>((resolve) => {
    type Unary = (
      req: unknown,
      md: Metadata,
      opts: { deadline: Date },
      cb: (err: ServiceError | null, reply: unknown) => void,
    ) => void;
    const fn = (client as unknown as Record<string, Unary>)[method].bind(client);
    fn(request, metadata(o, request.header.from), { deadline: new Date(Date.now() + 10_000) }, (err, reply) => {
      client.close();
      resolve({ code: err?.code ?? 0, details: err?.details ?? '', reply });
    });
  });
}

/** Sends raw bytes as the body of a call: a body that is not even protobuf. */
export function forgeRaw(address: string, method: string, body: Buffer, o: ForgeOptions = {}): Promise<Forged> {
  const client = new Client(address, creds(o), OPTIONS);
  return new Promise<Forged>((resolve) => {
    client.makeUnaryRequest(
      `/raft.Raft/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      metadata(o, o.claim ?? 'zz'),
      { deadline: new Date(Date.now() + 20_000) },
      (err, reply) => {
        client.close();
        resolve({ code: err?.code ?? 0, details: err?.details ?? '', reply });
      },
    );
  });
}

/** What a forged Pipe got back: the answer frames, and the status the stream ended with. */
export interface ForgedPipe {
  answers: { id: number; code: number; details: string }[];
  code: number;
  details: string;
}

/** Opens a Pipe (proto/raft.proto) to the node at `address` and sends AppendEntries frames on it,
 *  each with the metadata given (a frame may claim any sender in it), then ends the stream. */
export function forgePipe(
  address: string,
  frames: { metadata: Record<string, string>; request: Record<string, unknown> }[],
  o: ForgeOptions = {},
): Promise<ForgedPipe> {
  const Ctor = raftProto().raft.Raft;
  const client = new Ctor(address, creds(o), OPTIONS);
  const encode = raftProto().raft.Raft.service.AppendEntries.requestSerialize;
  const call = client.Pipe(metadata(o, o.claim ?? 'zz'), { deadline: new Date(Date.now() + 20_000) });
  const answers: ForgedPipe['answers'] = [];
  return new Promise<ForgedPipe>((resolve) => {
    call.on('data', (m: { frames: { id: number; code: number; details: string }[] }) => {
      for (const f of m.frames) answers.push({ id: f.id, code: f.code, details: f.details });
      if (answers.length === frames.length) call.end();
    });
    call.on('error', () => {});
    call.on('status', (s: { code: number; details: string }) => {
      client.close();
      resolve({ answers, code: s.code, details: s.details });
    });
    // All in one message, as a node sends the calls of one turn of its event loop.
    call.write({
      frames: frames.map((f, i) => ({
        id: i + 1,
        method: 'AppendEntries',
        metadata: f.metadata,
        payload: encode(f.request),
      })),
    });
  });
}
