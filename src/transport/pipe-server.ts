// The answering end of a Pipe (proto/raft.proto; the calling end is pipe-client.ts). grpc-js has
// already authenticated the stream from its headers (peer-auth.ts's interceptor) before its first
// frame is read; each frame is then served as the unary call it stands for, with the metadata it
// carries plus the sender the stream was authenticated as (never a sender a frame names itself),
// and answered with a frame of the same id. Answers go out as calls finish, in any order; those
// finished in the same turn of the event loop go as one message (pipe-frames.ts).
import { Metadata, status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { PipeFrame__Output } from './generated/raft/PipeFrame.js';
import type { PipeMessage, PipeMessage__Output } from './generated/raft/PipeMessage.js';
import { FrameBatcher } from './pipe-frames.js';
import { FROM_HEADER, SECRET_HEADER } from './peer-auth.js';

/** How a piped call ends: an error (a gRPC status code and details) or the reply's bytes. */
export type PipeAnswer = (error: { code: status; details: string } | null, reply?: Buffer) => void;

/** Serves one call carried by a pipe, as the unary method `method` would be served. */
export type ServePiped = (method: string, request: Buffer, metadata: Metadata, answer: PipeAnswer) => void;

type PipeCall = ServerDuplexStream<PipeMessage__Output, PipeMessage>;

export class PipeServer {
  /** Each open pipe, with the function that ends it. */
  private readonly open = new Map<PipeCall, () => void>();

  constructor(private readonly serve: ServePiped) {}

  /** The handler of the Pipe method. */
  accept(call: PipeCall): void {
    let outstanding = 0;
    let callerDone = false;
    let ended = false;
    const answers = new FrameBatcher((message) => {
      if (!ended && !call.cancelled) call.write(message);
    });
    const end = () => {
      if (ended) return;
      answers.flush();
      ended = true;
      this.open.delete(call);
      if (!call.cancelled) call.end();
    };
    this.open.set(call, end);
    const authenticated = call.metadata.get(FROM_HEADER);
    const serveFrame = (frame: PipeFrame__Output) => {
      outstanding++;
      const answer: PipeAnswer = (error, reply) => {
        outstanding--;
        if (ended || call.cancelled) return;
        answers.send(
          error
            ? { id: frame.id, code: error.code, details: error.details }
            : { id: frame.id, code: status.OK, payload: reply },
        );
        if (callerDone && outstanding === 0) end();
      };
      let md: Metadata;
      try {
        md = new Metadata();
        for (const [k, v] of Object.entries(frame.metadata)) if (k !== FROM_HEADER && k !== SECRET_HEADER) md.set(k, v);
        for (const v of authenticated) md.add(FROM_HEADER, v);
      } catch (e) {
        return answer({ code: status.INVALID_ARGUMENT, details: `bad metadata on the pipe: ${(e as Error).message}` });
      }
      this.serve(frame.method, frame.payload, md, answer);
    };
    call.on('data', (message: PipeMessage__Output) => {
      for (const frame of message.frames) serveFrame(frame);
    });
    call.on('end', () => {
      callerDone = true;
      if (outstanding === 0) end();
    });
    call.on('cancelled', () => {
      ended = true;
      this.open.delete(call);
    });
    call.on('error', () => {
      ended = true;
      this.open.delete(call);
    });
  }

  /** Ends every open pipe (the server is stopping): its callers see it closed and fail the calls
   *  still waiting on it, as they would on a unary call the server never answered. */
  closeAll(): void {
    for (const end of [...this.open.values()]) end();
  }
}
