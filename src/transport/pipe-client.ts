// The calling end of a Pipe (proto/raft.proto): one long-lived gRPC stream from this node to one
// peer, carrying the hot calls (AppendEntries, Forward and ReadIndex) as frames, so that a call costs a frame
// on an open stream instead of a new HTTP/2 stream with headers and trailers. To everything above
// it, a piped call behaves like a unary one: it resolves with the reply's bytes or rejects with a
// gRPC status code and details (a ServiceError's shape), and it has a deadline.
//
// The stream opens at the first call and again at the first call after it ended (the peer
// restarted, the connection broke, this end reset it); a call made while no connection can be had
// fails with grpc-js's own UNAVAILABLE "No connection established", as a unary call would. When a
// call's deadline passes with nothing heard from the peer since it was sent, the peer is not
// answering (paused, overloaded, a black hole): the stream is reset, failing the calls still
// waiting with DEADLINE_EXCEEDED, so that frames queued for a peer that does not read cannot pile
// up in memory (a unary call that times out frees its data the same way).
//
// Calls made in the same turn of the event loop go out as one message (pipe-frames.ts).
import { type Metadata, status, type ClientDuplexStream } from '@grpc/grpc-js';
import type { PipeMessage, PipeMessage__Output } from './generated/raft/PipeMessage.js';
import { FrameBatcher } from './pipe-frames.js';
import { FROM_HEADER, SECRET_HEADER } from './peer-auth.js';

/** The calls a pipe carries. */
export type PipedMethod = 'AppendEntries' | 'Forward' | 'ReadIndex';

/** A failed call, shaped as grpc-js's ServiceError (what the hooks, logs and callers read). */
export class PipeCallError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(`${code} ${status[code]}: ${details}`);
  }
}

interface Waiting {
  resolve: (reply: Buffer) => void;
  reject: (e: PipeCallError) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

/** Opens the stream; the metadata it is given authenticates it (peer-auth.ts). */
export type OpenPipe = () => ClientDuplexStream<PipeMessage, PipeMessage__Output>;

export class PipeClient {
  private stream: ClientDuplexStream<PipeMessage, PipeMessage__Output> | null = null;
  /** The current stream's frames not yet written. */
  private batch: FrameBatcher | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  /** performance.now() when the current stream last brought an answer (or was opened). */
  private lastHeard = 0;
  private closed = false;

  constructor(private readonly open: OpenPipe) {}

  /** Calls `method` with `request` (already encoded as the method's message); resolves with the
   *  reply's bytes, or rejects with a PipeCallError after `timeoutMs` or when the stream fails. */
  call(method: PipedMethod, request: Buffer, metadata: Metadata, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new PipeCallError(status.CANCELLED, 'the pipe was closed'));
    if (!this.stream) this.start();
    const batch = this.batch!;
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => this.expire(id, timeoutMs), timeoutMs);
      this.waiting.set(id, { resolve, reject, timer, sentAt: performance.now() });
      batch.send({ id, method, metadata: carried(metadata), payload: request });
    });
  }

  /** How many calls wait for their answer. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /** Ends the stream and fails the calls still waiting (this node is stopping). */
  close(): void {
    this.closed = true;
    this.reset(status.CANCELLED, 'the pipe was closed');
  }

  private start(): ClientDuplexStream<PipeMessage, PipeMessage__Output> {
    const stream = this.open();
    this.stream = stream;
    this.batch = new FrameBatcher((message) => {
      if (stream === this.stream) stream.write(message);
    });
    this.lastHeard = performance.now();
    stream.on('data', (message: PipeMessage__Output) => {
      if (stream !== this.stream) return;
      this.lastHeard = performance.now();
      for (const frame of message.frames) {
        const w = this.waiting.get(frame.id);
        if (!w) continue; // answered after its deadline
        this.waiting.delete(frame.id);
        clearTimeout(w.timer);
        if (frame.code === 0)
          w.resolve(frame.payload); // OK
        else w.reject(new PipeCallError(frame.code, frame.details));
      }
    });
    // A stream ends with a status: an error ('error', then 'status') or OK when the peer closed it
    // (it is shutting down). Either way the calls waiting on it have no answer coming.
    stream.on('status', (s: { code: status; details: string }) => {
      if (stream !== this.stream) return;
      this.stream = null;
      this.failAll(
        s.code === status.OK ? status.UNAVAILABLE : s.code,
        s.code === status.OK ? 'the peer closed the pipe' : s.details,
      );
    });
    stream.on('error', () => {}); // reported by 'status'
    return stream;
  }

  private expire(id: number, timeoutMs: number): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    w.reject(new PipeCallError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    // Nothing heard since this call left: the peer is not reading; frames would queue for it.
    if (this.lastHeard <= w.sentAt)
      this.reset(status.DEADLINE_EXCEEDED, `no answer from the peer within ${timeoutMs} ms (the pipe was reset)`);
  }

  private reset(code: status, details: string): void {
    const stream = this.stream;
    this.stream = null;
    this.batch?.drop();
    stream?.cancel();
    this.failAll(code, details);
  }

  private failAll(code: status, details: string): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) {
      clearTimeout(w.timer);
      w.reject(new PipeCallError(code, details));
    }
  }
}

/** A call's metadata as the frame carries it: its text headers (the trace context), never the
 *  headers that authenticate, which the stream carries once and the receiving end applies. */
function carried(md: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap()))
    if (typeof v === 'string' && k !== FROM_HEADER && k !== SECRET_HEADER) out[k] = v;
  return out;
}
