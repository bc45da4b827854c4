#pragma once
// Shared helpers of the h5ad tests: python (Debian's anndata/h5py) dumps parsed as JSON, and
// comparisons of our columns with what pandas sees.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gsmap/core/error.hpp"
#include "gsmap/io/h5ad.hpp"
#include "test_support.hpp"

namespace gsmap::test::h5ad {

using nlohmann::json;

// Runs a python script whose last stdout line is one JSON document.
inline json python_json(const std::string& script) {
  const std::string out = run_python(script);
  const auto end = out.find_last_not_of("\n");
  const auto start = out.rfind('\n', end);
  return json::parse(out.substr(start == std::string::npos ? 0 : start + 1));
}

// A python prelude: imports and `col(series)` / `dense(m)` / `csr(m)` turning pandas/scipy
// objects into JSON-able dicts exactly (float32 values become the same doubles).
inline const char* kPyPrelude = R"PY(
import json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, scipy.sparse as sp, h5py, anndata as ad

def nan_none(v):
    return None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else v

def col(s):
    if isinstance(s.dtype, pd.CategoricalDtype):
        return {"kind": "categorical", "categories": [str(c) for c in s.cat.categories],
                "codes": [int(c) for c in s.cat.codes], "ordered": bool(s.cat.ordered)}
    if s.dtype == bool or str(s.dtype) == "boolean":
        return {"kind": "bool", "values": [None if pd.isna(v) else int(bool(v)) for v in s]}
    if pd.api.types.is_integer_dtype(s.dtype):
        return {"kind": "int", "values": [None if pd.isna(v) else int(v) for v in s]}
    if pd.api.types.is_float_dtype(s.dtype):
        return {"kind": "float", "values": [None if np.isnan(v) else float(v) for v in s]}
    return {"kind": "string", "values": [None if pd.isna(v) else str(v) for v in s]}

def csr(m):
    m = sp.csr_matrix(m) if not sp.issparse(m) else m.tocsr()
    return {"indptr": [int(x) for x in m.indptr], "indices": [int(x) for x in m.indices],
            "data": [float(x) for x in m.data], "shape": [int(x) for x in m.shape]}

def dense(m):
    m = m.toarray() if sp.issparse(m) else np.asarray(m)
    return [[float(x) for x in row] for row in m]

def frame(df):
    return {"index": [str(i) for i in df.index], "columns": list(df.columns),
            "cols": {c: col(df[c]) for c in df.columns}}

def emit(obj):
    print(json.dumps(obj, allow_nan=False))
)PY";

inline std::string py_str(const std::string& s) {
  std::string out = "r'''";
  out += s;
  out += "'''";
  return out;
}

// Compares one column read by us with col() from python.
inline void expect_column_eq(const io::Column& ours, const json& py, const std::string& what) {
  SCOPED_TRACE(what);
  const std::string kind = py.at("kind");
  if (kind == "categorical") {
    const auto* cat = std::get_if<io::Categorical>(&ours);
    ASSERT_NE(cat, nullptr) << "expected a categorical";
    EXPECT_EQ(cat->categories, py.at("categories").get<std::vector<std::string>>());
    EXPECT_EQ(cat->codes, py.at("codes").get<std::vector<std::int32_t>>());
    EXPECT_EQ(cat->ordered, py.at("ordered").get<bool>());
    return;
  }
  const auto& values = py.at("values");
  ASSERT_EQ(io::column_size(ours), values.size());
  if (kind == "string") {
    const auto* s = std::get_if<io::StringColumn>(&ours);
    ASSERT_NE(s, nullptr) << "expected a string column";
    for (std::size_t i = 0; i < values.size(); ++i) {
      const bool missing = i < s->missing.size() && s->missing[i];  // empty mask: none missing
      if (values[i].is_null()) {
        EXPECT_TRUE(missing) << "row " << i;
      } else {
        EXPECT_FALSE(missing) << "row " << i;
        EXPECT_EQ(s->values[i], values[i].get<std::string>()) << "row " << i;
      }
    }
    return;
  }
  const auto* num = std::get_if<io::NumericColumn>(&ours);
  ASSERT_NE(num, nullptr) << "expected a numeric column";
  EXPECT_EQ(num->is_bool, kind == "bool");
  EXPECT_EQ(num->is_integer, kind == "int");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].is_null()) {
      EXPECT_TRUE(std::isnan(num->values[i])) << "row " << i;
    } else {
      EXPECT_EQ(num->values[i], values[i].get<double>()) << "row " << i;
    }
  }
}

// Compares a CsrRows block with rows [row0, row1) of a python csr() dict.
inline void expect_csr_rows_eq(const io::CsrRows& ours, const json& py, std::int64_t row0,
                               std::int64_t row1) {
  const auto indptr = py.at("indptr").get<std::vector<std::int64_t>>();
  const auto indices = py.at("indices").get<std::vector<std::int32_t>>();
  const auto data = py.at("data").get<std::vector<double>>();
  ASSERT_EQ(ours.row0, row0);
  ASSERT_EQ(ours.n_rows(), row1 - row0);
  ASSERT_EQ(ours.n_cols, py.at("shape")[1].get<std::int64_t>());
  const std::int64_t base = indptr[row0];
  ASSERT_EQ(ours.indptr.back(), indptr[row1] - base);
  for (std::int64_t r = row0; r <= row1; ++r) {
    ASSERT_EQ(ours.indptr[r - row0], indptr[r] - base) << "indptr at row " << r;
  }
  for (std::size_t e = 0; e < ours.indices.size(); ++e) {
    ASSERT_EQ(ours.indices[e], indices[base + e]) << "entry " << e;
    ASSERT_EQ(static_cast<double>(ours.data[e]),
              static_cast<double>(static_cast<float>(data[base + e])))
        << "entry " << e;
  }
}

// Runs fn, expecting an InputError whose message names the file and every given key fragment.
template <typename F>
void expect_input_error(F&& fn, const std::string& file, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "no InputError thrown (expected one naming " << file << ")";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file), std::string::npos) << "message lacks the file: " << msg;
    for (const auto& n : needles) {
      EXPECT_NE(msg.find(n), std::string::npos) << "message lacks '" << n << "': " << msg;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an InputError, got: " << e.what();
  }
}

}  // namespace gsmap::test::h5ad
