#pragma once

// A unary OTLP/gRPC call with raw message bytes (gRPC's generic stub), for the tests.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <string>

namespace cce::test {

inline const std::string kGrpcMetrics =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
inline const std::string kGrpcLogs = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
inline const std::string kGrpcTraces =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

struct GrpcReply {
  grpc::Status status;
  std::string body;
};

inline GrpcReply grpc_call(int port, const std::string& method, const std::string& body,
                           const std::multimap<std::string, std::string>& metadata = {},
                           bool gzip = false) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  for (const auto& [k, v] : metadata)
    ctx.AddMetadata(k, v);
  if (gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::CompletionQueue cq;
  auto call = stub.PrepareUnaryCall(&ctx, method, request, &cq);
  call->StartCall();
  GrpcReply reply;
  call->Finish(&response, &reply.status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  std::vector<grpc::Slice> slices;
  if (response.Length() > 0 && response.Dump(&slices).ok()) {
    for (const auto& s : slices)
      reply.body.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return reply;
}

}  // namespace cce::test
