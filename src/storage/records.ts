// The on-disk record format shared by the write-ahead log and snapshot files:
//
//   [u32 little-endian payload length][u32 little-endian CRC-32 of the payload][payload: UTF-8 JSON]
//
// The checksum is what lets a restarting node tell an intact record from a torn or damaged one.
import { crc32 } from 'node:zlib';

export const HEADER_BYTES = 8;
/** Larger than any record we write (snapshots included): a length beyond it is damage. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function encodeRecord(value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value), 'utf8');
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export type Decoded =
  | { kind: 'record'; value: unknown; end: number }
  | { kind: 'end' }
  | { kind: 'torn'; reason: string }
  | { kind: 'corrupt'; reason: string };

/** Decodes the record at `offset` of `buf`. */
export function decodeRecord(buf: Buffer, offset: number): Decoded {
  if (offset === buf.length) return { kind: 'end' };
  if (buf.length - offset < HEADER_BYTES)
    return { kind: 'torn', reason: `only ${buf.length - offset} bytes of a record header` };
  const len = buf.readUInt32LE(offset);
  const sum = buf.readUInt32LE(offset + 4);
  if (len === 0 && sum === 0) return { kind: 'torn', reason: 'zero-filled space where a record should start' };
  if (len > MAX_RECORD_BYTES) return { kind: 'corrupt', reason: `record length ${len} is impossible` };
  const end = offset + HEADER_BYTES + len;
  if (end > buf.length)
    return { kind: 'torn', reason: `record of ${len} bytes, but only ${buf.length - offset - HEADER_BYTES} written` };
  const payload = buf.subarray(offset + HEADER_BYTES, end);
  if (crc32(payload) !== sum) return { kind: 'corrupt', reason: 'checksum mismatch' };
  try {
    return { kind: 'record', value: JSON.parse(payload.toString('utf8')), end };
  } catch {
    return { kind: 'corrupt', reason: 'checksum matches but the payload is not JSON' };
  }
}

/** Whether a failed decode at `offset` is a torn write (an append a crash interrupted, hence never
 *  fsynced, never acknowledged) rather than damage to a record that was complete. Only the last
 *  record of the newest segment can be torn, so first of all no intact record may follow it: a
 *  damaged length field can point past the end of the file, and cutting there would throw away
 *  every fsynced, acknowledged record after it. Then it must have a shape a crashed append leaves:
 *   - fewer bytes than a header;
 *   - a header announcing more bytes than follow, unless the bytes that do follow carry the
 *     header's checksum (then the record is complete and its length field is what got damaged);
 *   - zeros where the rest of the file should be (a file extended but never written), whether
 *     from the record's start or at the end of its payload: JSON never ends in a zero byte.
 *  A complete record whose checksum fails is damage: that record was fsynced, perhaps acknowledged. */
export function isTornTail(buf: Buffer, offset: number): boolean {
  if (intactRecordAfter(buf, offset) >= 0) return false;
  const rest = buf.length - offset;
  if (rest < HEADER_BYTES) return true;
  const len = buf.readUInt32LE(offset);
  const sum = buf.readUInt32LE(offset + 4);
  if (buf.subarray(offset).every((b) => b === 0)) return true;
  if (len > MAX_RECORD_BYTES) return false;
  const end = offset + HEADER_BYTES + len;
  if (end > buf.length) return crc32(buf.subarray(offset + HEADER_BYTES)) !== sum;
  // Complete by its length: torn only if it is the last thing in the file and ends in zeros.
  return end === buf.length && len > 0 && buf[end - 1] === 0;
}

/** The offset of the first intact record that starts after `from`, or -1. Every byte position is
 *  tried, because the damaged record's length cannot be trusted to say where the next one starts.
 *  A false find inside a torn record's payload is impossible: a header's length is below
 *  MAX_RECORD_BYTES (2^28), so its fourth byte is below 0x10, a control character that JSON
 *  always escapes; and every record we write is a JSON object, so its payload starts with `{`
 *  (checked first, so the scan only computes checksums where a record could start). */
export function intactRecordAfter(buf: Buffer, from: number): number {
  for (let i = from + 1; i + HEADER_BYTES < buf.length; i++) {
    if (buf[i + HEADER_BYTES] !== OPEN_BRACE) continue;
    if (decodeRecord(buf, i).kind === 'record') return i;
  }
  return -1;
}

const OPEN_BRACE = 0x7b;
