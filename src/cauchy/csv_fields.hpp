#pragma once
// CSV reading details shared by the cauchy module's readers (internal header).
#include <string>
#include <string_view>
#include <vector>

namespace gsmap::cauchy {

// pandas.read_csv's default NA strings: such a field is a missing value.
bool is_missing_token(std::string_view field);

}  // namespace gsmap::cauchy
