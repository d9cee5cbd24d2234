#pragma once

#include <string>
#include <string_view>

namespace cce::usage {

// Maps the model ids Claude Code, the Admin API, Bedrock and Vertex report to one first-party
// id: lower-cased, "[1m]"-style context suffixes stripped, Bedrock ("us.anthropic.…-v1:0") and
// Vertex ("…@20250929") forms mapped. Pure.
std::string normalize_model_id(std::string_view raw);

}  // namespace cce::usage
