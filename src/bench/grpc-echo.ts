// A bare gRPC server for the latency floor: one unary method that answers its request's bytes, no
// protobuf, no Raft. Run as its own process (`node --import tsx src/bench/grpc-echo.ts`); it prints
// its port on stdout and serves until its parent closes its stdin.
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';

export const ECHO_PATH = '/bench.Echo/Call';

export const rawMethod = {
  path: ECHO_PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const server = new Server();
  server.addService(
    { Call: rawMethod },
    { Call: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => cb(null, call.request) },
  );
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`${port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => server.forceShutdown());
}
