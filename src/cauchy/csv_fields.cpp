#include "csv_fields.hpp"

#include <algorithm>
#include <array>

namespace gsmap::cauchy {

bool is_missing_token(std::string_view field) {
  static constexpr std::array<std::string_view, 19> kNaTokens = {
      "",     "#N/A",   "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN",
      "-nan", "1.#IND", "1.#QNAN",  "<NA>", "N/A",     "NA",       "NULL",
      "NaN",  "None",   "n/a",      "nan",  "null"};
  return std::find(kNaTokens.begin(), kNaTokens.end(), field) != kNaTokens.end();
}

}  // namespace gsmap::cauchy
