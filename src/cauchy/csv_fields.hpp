#pragma once
// CSV reading details shared by the cauchy module's readers (internal header).
#include <string>
#include <string_view>
#include <vector>

namespace gsmap::cauchy {

// pandas.read_csv's default NA strings: such a field is a missing value.
bool is_missing_token(std::string_view field);

// Splits one CSV line on commas, honouring "..." quoting with "" as an escaped quote (as pandas'
// to_csv writes fields that contain a comma or a quote). Fields are unquoted copies.
void split_csv_line(std::string_view line, std::vector<std::string>& fields);

}  // namespace gsmap::cauchy
