// Sends one OTLP export over gRPC, for end-to-end tests (Debian's Python has no gRPC module).
//
//   cce_otlp_grpc_send PORT metrics|logs|traces FILE
//
// FILE holds the protobuf request message. Prints the gRPC status code (0 is OK) and its
// message; exits 0 on OK, 1 otherwise, 2 on bad arguments.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "unit/grpc_support.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: cce_otlp_grpc_send PORT metrics|logs|traces FILE\n");
    return 2;
  }
  const std::string signal = argv[2];
  const std::string& method = signal == "metrics" ? cce::test::kGrpcMetrics
                              : signal == "logs"  ? cce::test::kGrpcLogs
                                                  : cce::test::kGrpcTraces;
  std::ifstream in(argv[3], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cce_otlp_grpc_send: cannot read %s\n", argv[3]);
    return 2;
  }
  std::stringstream body;
  body << in.rdbuf();
  const auto reply = cce::test::grpc_call(std::stoi(argv[1]), method, body.str());
  std::printf("%d %s\n", static_cast<int>(reply.status.error_code()),
              reply.status.error_message().c_str());
  return reply.status.ok() ? 0 : 1;
}
