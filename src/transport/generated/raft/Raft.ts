// Original file: proto/raft.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AppendEntriesReply as _raft_AppendEntriesReply, AppendEntriesReply__Output as _raft_AppendEntriesReply__Output } from '../raft/AppendEntriesReply.js';
import type { AppendEntriesRequest as _raft_AppendEntriesRequest, AppendEntriesRequest__Output as _raft_AppendEntriesRequest__Output } from '../raft/AppendEntriesRequest.js';
import type { Empty as _raft_Empty, Empty__Output as _raft_Empty__Output } from '../raft/Empty.js';
import type { ForwardReply as _raft_ForwardReply, ForwardReply__Output as _raft_ForwardReply__Output } from '../raft/ForwardReply.js';
import type { ForwardRequest as _raft_ForwardRequest, ForwardRequest__Output as _raft_ForwardRequest__Output } from '../raft/ForwardRequest.js';
import type { InstallSnapshotReply as _raft_InstallSnapshotReply, InstallSnapshotReply__Output as _raft_InstallSnapshotReply__Output } from '../raft/InstallSnapshotReply.js';
import type { InstallSnapshotRequest as _raft_InstallSnapshotRequest, InstallSnapshotRequest__Output as _raft_InstallSnapshotRequest__Output } from '../raft/InstallSnapshotRequest.js';
import type { PipeMessage as _raft_PipeMessage, PipeMessage__Output as _raft_PipeMessage__Output } from '../raft/PipeMessage.js';
import type { ReadIndexReply as _raft_ReadIndexReply, ReadIndexReply__Output as _raft_ReadIndexReply__Output } from '../raft/ReadIndexReply.js';
import type { ReadIndexRequest as _raft_ReadIndexRequest, ReadIndexRequest__Output as _raft_ReadIndexRequest__Output } from '../raft/ReadIndexRequest.js';
import type { RequestVoteReply as _raft_RequestVoteReply, RequestVoteReply__Output as _raft_RequestVoteReply__Output } from '../raft/RequestVoteReply.js';
import type { RequestVoteRequest as _raft_RequestVoteRequest, RequestVoteRequest__Output as _raft_RequestVoteRequest__Output } from '../raft/RequestVoteRequest.js';
import type { TimeoutNowRequest as _raft_TimeoutNowRequest, TimeoutNowRequest__Output as _raft_TimeoutNowRequest__Output } from '../raft/TimeoutNowRequest.js';

export interface RaftClient extends grpc.Client {
  /**
   * §5.3 log replication; an empty one (heartbeat = true) is a heartbeat.
   */
  AppendEntries(argument: _raft_AppendEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  AppendEntries(argument: _raft_AppendEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  AppendEntries(argument: _raft_AppendEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  AppendEntries(argument: _raft_AppendEntriesRequest, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  /**
   * §5.3 log replication; an empty one (heartbeat = true) is a heartbeat.
   */
  appendEntries(argument: _raft_AppendEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  appendEntries(argument: _raft_AppendEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  appendEntries(argument: _raft_AppendEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  appendEntries(argument: _raft_AppendEntriesRequest, callback: grpc.requestCallback<_raft_AppendEntriesReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * A follower hands a client's write to the leader (as etcd's followers forward proposals): the
   * leader proposes the command and answers once it is applied, or with the error the client gets.
   */
  Forward(argument: _raft_ForwardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  Forward(argument: _raft_ForwardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  Forward(argument: _raft_ForwardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  Forward(argument: _raft_ForwardRequest, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  /**
   * A follower hands a client's write to the leader (as etcd's followers forward proposals): the
   * leader proposes the command and answers once it is applied, or with the error the client gets.
   */
  forward(argument: _raft_ForwardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  forward(argument: _raft_ForwardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  forward(argument: _raft_ForwardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  forward(argument: _raft_ForwardRequest, callback: grpc.requestCallback<_raft_ForwardReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * §7 a snapshot for a follower whose missing entries were compacted away.
   */
  InstallSnapshot(argument: _raft_InstallSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  InstallSnapshot(argument: _raft_InstallSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  InstallSnapshot(argument: _raft_InstallSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  InstallSnapshot(argument: _raft_InstallSnapshotRequest, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  /**
   * §7 a snapshot for a follower whose missing entries were compacted away.
   */
  installSnapshot(argument: _raft_InstallSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  installSnapshot(argument: _raft_InstallSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  installSnapshot(argument: _raft_InstallSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  installSnapshot(argument: _raft_InstallSnapshotRequest, callback: grpc.requestCallback<_raft_InstallSnapshotReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * The hot calls (AppendEntries, heartbeats included, Forward and ReadIndex) travel on one
   * long-lived stream from each node to each peer, as etcd's peers stream their messages: a unary
   * gRPC call costs a new HTTP/2 stream with its headers and trailers (measured: about 0.35 ms of
   * CPU per call, both ends together), a frame on an open stream about a fifth of that. Each call is a PipeFrame
   * carrying the method, the call's metadata and the request encoded as that method's message; its
   * answer is a PipeFrame with the same id carrying the reply, or a gRPC status code and details.
   * Answers may come back in any order. The stream is authenticated once, from its headers, like
   * any call (the cluster secret and/or mTLS); each call on it is then checked like a unary call.
   * Each message carries the frames its sender had in one turn of its event loop.
   */
  Pipe(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_raft_PipeMessage, _raft_PipeMessage__Output>;
  Pipe(options?: grpc.CallOptions): grpc.ClientDuplexStream<_raft_PipeMessage, _raft_PipeMessage__Output>;
  /**
   * The hot calls (AppendEntries, heartbeats included, Forward and ReadIndex) travel on one
   * long-lived stream from each node to each peer, as etcd's peers stream their messages: a unary
   * gRPC call costs a new HTTP/2 stream with its headers and trailers (measured: about 0.35 ms of
   * CPU per call, both ends together), a frame on an open stream about a fifth of that. Each call is a PipeFrame
   * carrying the method, the call's metadata and the request encoded as that method's message; its
   * answer is a PipeFrame with the same id carrying the reply, or a gRPC status code and details.
   * Answers may come back in any order. The stream is authenticated once, from its headers, like
   * any call (the cluster secret and/or mTLS); each call on it is then checked like a unary call.
   * Each message carries the frames its sender had in one turn of its event loop.
   */
  pipe(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_raft_PipeMessage, _raft_PipeMessage__Output>;
  pipe(options?: grpc.CallOptions): grpc.ClientDuplexStream<_raft_PipeMessage, _raft_PipeMessage__Output>;
  
  /**
   * Thesis §6.4: a follower asks the leader for a read index on behalf of a client.
   */
  ReadIndex(argument: _raft_ReadIndexRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  ReadIndex(argument: _raft_ReadIndexRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  ReadIndex(argument: _raft_ReadIndexRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  ReadIndex(argument: _raft_ReadIndexRequest, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  /**
   * Thesis §6.4: a follower asks the leader for a read index on behalf of a client.
   */
  readIndex(argument: _raft_ReadIndexRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  readIndex(argument: _raft_ReadIndexRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  readIndex(argument: _raft_ReadIndexRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  readIndex(argument: _raft_ReadIndexRequest, callback: grpc.requestCallback<_raft_ReadIndexReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * §5.2 leader election; with pre_vote set, the Pre-Vote of thesis §9.6.
   */
  RequestVote(argument: _raft_RequestVoteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  RequestVote(argument: _raft_RequestVoteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  RequestVote(argument: _raft_RequestVoteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  RequestVote(argument: _raft_RequestVoteRequest, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  /**
   * §5.2 leader election; with pre_vote set, the Pre-Vote of thesis §9.6.
   */
  requestVote(argument: _raft_RequestVoteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  requestVote(argument: _raft_RequestVoteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  requestVote(argument: _raft_RequestVoteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  requestVote(argument: _raft_RequestVoteRequest, callback: grpc.requestCallback<_raft_RequestVoteReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Thesis §3.10: the leader asks a caught-up follower to start an election now.
   */
  TimeoutNow(argument: _raft_TimeoutNowRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  TimeoutNow(argument: _raft_TimeoutNowRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  TimeoutNow(argument: _raft_TimeoutNowRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  TimeoutNow(argument: _raft_TimeoutNowRequest, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * Thesis §3.10: the leader asks a caught-up follower to start an election now.
   */
  timeoutNow(argument: _raft_TimeoutNowRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  timeoutNow(argument: _raft_TimeoutNowRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  timeoutNow(argument: _raft_TimeoutNowRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  timeoutNow(argument: _raft_TimeoutNowRequest, callback: grpc.requestCallback<_raft_Empty__Output>): grpc.ClientUnaryCall;
  
}

export interface RaftHandlers extends grpc.UntypedServiceImplementation {
  /**
   * §5.3 log replication; an empty one (heartbeat = true) is a heartbeat.
   */
  AppendEntries: grpc.handleUnaryCall<_raft_AppendEntriesRequest__Output, _raft_AppendEntriesReply>;
  
  /**
   * A follower hands a client's write to the leader (as etcd's followers forward proposals): the
   * leader proposes the command and answers once it is applied, or with the error the client gets.
   */
  Forward: grpc.handleUnaryCall<_raft_ForwardRequest__Output, _raft_ForwardReply>;
  
  /**
   * §7 a snapshot for a follower whose missing entries were compacted away.
   */
  InstallSnapshot: grpc.handleUnaryCall<_raft_InstallSnapshotRequest__Output, _raft_InstallSnapshotReply>;
  
  /**
   * The hot calls (AppendEntries, heartbeats included, Forward and ReadIndex) travel on one
   * long-lived stream from each node to each peer, as etcd's peers stream their messages: a unary
   * gRPC call costs a new HTTP/2 stream with its headers and trailers (measured: about 0.35 ms of
   * CPU per call, both ends together), a frame on an open stream about a fifth of that. Each call is a PipeFrame
   * carrying the method, the call's metadata and the request encoded as that method's message; its
   * answer is a PipeFrame with the same id carrying the reply, or a gRPC status code and details.
   * Answers may come back in any order. The stream is authenticated once, from its headers, like
   * any call (the cluster secret and/or mTLS); each call on it is then checked like a unary call.
   * Each message carries the frames its sender had in one turn of its event loop.
   */
  Pipe: grpc.handleBidiStreamingCall<_raft_PipeMessage__Output, _raft_PipeMessage>;
  
  /**
   * Thesis §6.4: a follower asks the leader for a read index on behalf of a client.
   */
  ReadIndex: grpc.handleUnaryCall<_raft_ReadIndexRequest__Output, _raft_ReadIndexReply>;
  
  /**
   * §5.2 leader election; with pre_vote set, the Pre-Vote of thesis §9.6.
   */
  RequestVote: grpc.handleUnaryCall<_raft_RequestVoteRequest__Output, _raft_RequestVoteReply>;
  
  /**
   * Thesis §3.10: the leader asks a caught-up follower to start an election now.
   */
  TimeoutNow: grpc.handleUnaryCall<_raft_TimeoutNowRequest__Output, _raft_Empty>;
  
}

export interface RaftDefinition extends grpc.ServiceDefinition {
  AppendEntries: MethodDefinition<_raft_AppendEntriesRequest, _raft_AppendEntriesReply, _raft_AppendEntriesRequest__Output, _raft_AppendEntriesReply__Output>
  Forward: MethodDefinition<_raft_ForwardRequest, _raft_ForwardReply, _raft_ForwardRequest__Output, _raft_ForwardReply__Output>
  InstallSnapshot: MethodDefinition<_raft_InstallSnapshotRequest, _raft_InstallSnapshotReply, _raft_InstallSnapshotRequest__Output, _raft_InstallSnapshotReply__Output>
  Pipe: MethodDefinition<_raft_PipeMessage, _raft_PipeMessage, _raft_PipeMessage__Output, _raft_PipeMessage__Output>
  ReadIndex: MethodDefinition<_raft_ReadIndexRequest, _raft_ReadIndexReply, _raft_ReadIndexRequest__Output, _raft_ReadIndexReply__Output>
  RequestVote: MethodDefinition<_raft_RequestVoteRequest, _raft_RequestVoteReply, _raft_RequestVoteRequest__Output, _raft_RequestVoteReply__Output>
  TimeoutNow: MethodDefinition<_raft_TimeoutNowRequest, _raft_Empty, _raft_TimeoutNowRequest__Output, _raft_Empty__Output>
}
