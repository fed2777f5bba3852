// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One call, or the answer to one call, on a Pipe.
 */
export interface PipeFrame {
  /**
   * pairs an answer with its call (per pipe, from 1)
   */
  'id'?: (number | string | Long);
  /**
   * on a call: "AppendEntries", "Forward" or "ReadIndex"
   */
  'method'?: (string);
  /**
   * on a call: its metadata (traceparent, tracestate)
   */
  'metadata'?: ({[key: string]: string});
  /**
   * the request, or the reply, encoded as the method's message
   */
  'payload'?: (Buffer | Uint8Array | string);
  /**
   * on an answer: the gRPC status code, 0 (OK) with a reply
   */
  'code'?: (number);
  /**
   * on a failed answer: why
   */
  'details'?: (string);
}

/**
 * One call, or the answer to one call, on a Pipe.
 */
export interface PipeFrame__Output {
  /**
   * pairs an answer with its call (per pipe, from 1)
   */
  'id': (number);
  /**
   * on a call: "AppendEntries", "Forward" or "ReadIndex"
   */
  'method': (string);
  /**
   * on a call: its metadata (traceparent, tracestate)
   */
  'metadata': ({[key: string]: string});
  /**
   * the request, or the reply, encoded as the method's message
   */
  'payload': (Buffer);
  /**
   * on an answer: the gRPC status code, 0 (OK) with a reply
   */
  'code': (number);
  /**
   * on a failed answer: why
   */
  'details': (string);
}
