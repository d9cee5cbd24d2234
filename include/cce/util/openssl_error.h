#pragma once

#include <string>

namespace cce::util {

// OpenSSL's reason for the last failure on this thread (and the error queue cleared), for
// messages that name a file: "error:0480006C:PEM routines::no start line".
std::string openssl_error();

}  // namespace cce::util
