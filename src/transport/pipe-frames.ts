// Frames a pipe's end sends in one turn of the event loop go out as one gRPC message, a
// PipeMessage (proto/raft.proto). Under load a follower forwards the writes of many clients at once
// and the leader answers a batch of them at once; one message for all of them costs one stream
// write, one HTTP/2 DATA frame and one message to decode at the other end, where a message each
// cost every one of those (grpc-js's per-message work is most of what a frame costs). The first frame of a turn leaves at once, so a lone call (one client, a heartbeat)
// waits for nothing; the frames that follow it in the same turn wait for the event loop's check
// phase (setImmediate) and leave together.
import type { PipeFrame } from './generated/raft/PipeFrame.js';
import type { PipeMessage } from './generated/raft/PipeMessage.js';

/** Frames go together up to this many payload bytes; a bigger frame goes alone, so no message
 *  comes near the channel's size limit however many catch-up AppendEntries are queued. */
const BATCH_BYTES = 1024 * 1024;

export class FrameBatcher {
  private queued: PipeFrame[] = [];
  private bytes = 0;
  private scheduled = false;

  /** `write` sends one message (the stream's write). */
  constructor(private readonly write: (message: PipeMessage) => void) {}

  send(frame: PipeFrame): void {
    if (!this.scheduled) {
      // The first frame of a turn leaves at once: a lone call waits for nothing. Those that follow
      // it in the same turn wait for the check phase and leave together.
      this.scheduled = true;
      setImmediate(() => this.endTurn());
      this.write({ frames: [frame] });
      return;
    }
    const size = frame.payload ? frame.payload.length : 0;
    if (this.bytes + size > BATCH_BYTES && this.queued.length) this.flush();
    this.queued.push(frame);
    this.bytes += size;
  }

  /** Sends what is queued now. */
  flush(): void {
    const frames = this.queued;
    if (!frames.length) return;
    this.queued = [];
    this.bytes = 0;
    this.write({ frames });
  }

  private endTurn(): void {
    this.scheduled = false;
    this.flush();
  }

  /** Forgets what is queued (the stream is gone: its calls have been failed already). */
  drop(): void {
    this.queued = [];
    this.bytes = 0;
  }
}
