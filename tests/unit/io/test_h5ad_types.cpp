// Types kept (docs/formats.md "Types kept"): obs columns written by anndata come back from our
// reader and writer with the same pandas dtypes: bool stays bool, categories keep their order and
// `ordered` flag, integer and float columns keep their width; nullable columns keep their mask.
#include <gtest/gtest.h>

#include "test_h5ad_util.hpp"

namespace gsmap::test::h5ad {
namespace {

// A frame with one column of every kind, as a user's h5ad has them.
const char* const kMakeInput = R"PY(
n = 6
obs = pd.DataFrame(index=[f"c{i}" for i in range(n)])
obs["High_quality"] = np.array([True, False, True, True, False, True])
obs["annotation"] = pd.Categorical(["T3", "T2", "T0", "T5", "T3", "T1"],
                                   categories=["T0", "T1", "T2", "T3", "T4", "T5"])
obs["grade"] = pd.Categorical(["lo", "hi", "mid", "lo", "hi", "mid"],
                              categories=["lo", "mid", "hi"], ordered=True)
obs["n_genes"] = np.array([5, 7, 2**31 - 1, -3, 0, 9], dtype=np.int32)
obs["batch"] = np.array([1, 2, 255, 0, 1, 2], dtype=np.uint8)
obs["total"] = np.array([1, 2, 3, 4, 5, 2**40], dtype=np.int64)
obs["depth"] = np.array([0.1, 1e-30, 3.5, np.nan, 2.0, -7.25], dtype=np.float32)
obs["score"] = np.array([0.1, 1e-300, 3.5, np.nan, 2.0, -7.25], dtype=np.float64)
obs["count_na"] = pd.array([1, None, 3, 4, None, 6], dtype="Int32")
obs["note"] = ["a", "b,c", "d\"e", "f", "g", "h"]
ad.AnnData(obs=obs).write_h5ad(P)
)PY";

// Both files in one python process (importing anndata takes seconds).
const char* const kDump = R"PY(
def dump(path):
    a = ad.read_h5ad(path)
    return {"dtypes": {c: str(a.obs[c].dtype) for c in a.obs.columns}, "obs": frame(a.obs),
            "hq_sum": int(a.obs.High_quality.astype(bool).sum()),
            "categories": {c: [str(x) for x in a.obs[c].cat.categories] for c in a.obs.columns
                           if isinstance(a.obs[c].dtype, pd.CategoricalDtype)}}
emit({"before": dump(IN), "after": dump(OUT)})
)PY";

TEST(H5adTypes, ObsColumnsRoundTripWithTheirDtypes) {
  TempDir dir("h5ad_types");
  const std::string in = (dir.path() / "in.h5ad").string();
  const std::string out = (dir.path() / "out.h5ad").string();
  run_python(std::string(kPyPrelude) + "P = " + py_str(in) + kMakeInput);

  io::H5adReader r(in);
  io::DataFrame obs;
  obs.index = r.obs_names();
  for (const auto& name : r.obs_column_names()) obs.columns.emplace_back(name, r.obs_column(name));
  {
    io::H5adWriter w(out);
    w.write_obs(obs);
    w.close();
  }
  const json both = python_json(std::string(kPyPrelude) + "IN = " + py_str(in) +
                                "\nOUT = " + py_str(out) + kDump);
  const json& before = both.at("before");
  const json& after = both.at("after");
  EXPECT_EQ(after.at("dtypes"), before.at("dtypes"));
  EXPECT_EQ(after.at("obs"), before.at("obs"));
  EXPECT_EQ(after.at("categories"), before.at("categories"));
  // The issue's checks, spelled out.
  EXPECT_EQ(after.at("hq_sum").get<int>(), 4);
  EXPECT_EQ(after.at("dtypes").at("High_quality"), "bool");
  EXPECT_EQ(after.at("categories").at("annotation"),
            json::parse(R"(["T0", "T1", "T2", "T3", "T4", "T5"])"));
  EXPECT_EQ(after.at("obs").at("cols").at("grade").at("ordered"), true);
  EXPECT_EQ(after.at("dtypes").at("n_genes"), "int32");
  EXPECT_EQ(after.at("dtypes").at("batch"), "uint8");
  EXPECT_EQ(after.at("dtypes").at("total"), "int64");
  EXPECT_EQ(after.at("dtypes").at("depth"), "float32");
  EXPECT_EQ(after.at("dtypes").at("count_na"), "Int32");
}

TEST(H5adTypes, SlicesAndSerialisedPartsKeepDtypes) {
  io::Column c = io::NumericColumn({1, 2, 3}, false, true, "int16");
  const auto s = io::take_rows(c, {2, 0});
  const auto& n = std::get<io::NumericColumn>(s);
  EXPECT_EQ(n.values, (std::vector<double>{3, 1}));
  EXPECT_EQ(n.dtype, "int16");
  EXPECT_TRUE(n.is_integer);
  const auto sl = io::slice_rows(io::Categorical{{"b", "a"}, {1, 0, -1}, true}, 1, 3);
  EXPECT_EQ(std::get<io::Categorical>(sl).codes, (std::vector<std::int32_t>{0, -1}));
  EXPECT_TRUE(std::get<io::Categorical>(sl).ordered);
}

// Samples joined column by column (pipeline/cells.cpp): equal category lists stay as they are,
// different ones are merged in order of first appearance; numbers widen as pandas' concat does.
TEST(H5adTypes, AppendColumnJoinsAsPandasConcat) {
  io::Column same = io::Categorical{{"T0", "T1", "T2"}, {2, 0}, true};
  io::append_column(same, io::Categorical{{"T0", "T1", "T2"}, {1, -1}, true});
  const auto& s = std::get<io::Categorical>(same);
  EXPECT_EQ(s.categories, (std::vector<std::string>{"T0", "T1", "T2"}));
  EXPECT_EQ(s.codes, (std::vector<std::int32_t>{2, 0, 1, -1}));
  EXPECT_TRUE(s.ordered);

  io::Column merged = io::Categorical{{"T0", "T2"}, {1, 0}, true};
  io::append_column(merged, io::Categorical{{"T1", "T2"}, {0, 1}, true});
  const auto& m = std::get<io::Categorical>(merged);
  EXPECT_EQ(m.categories, (std::vector<std::string>{"T0", "T2", "T1"}));
  EXPECT_EQ(m.codes, (std::vector<std::int32_t>{1, 0, 2, 1}));
  EXPECT_FALSE(m.ordered);

  // Labels saved as strings in one sample and as a categorical in another: one categorical.
  io::Column labels = io::StringColumn{{"b", "a", "b"}, {false, true, false}};
  io::append_column(labels, io::Categorical{{"a", "c"}, {1, 0}, true});
  const auto& l = std::get<io::Categorical>(labels);
  EXPECT_EQ(l.categories, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(l.codes, (std::vector<std::int32_t>{0, -1, 0, 2, 1}));
  EXPECT_FALSE(l.ordered);
  io::Column cats = io::Categorical{{"x"}, {0}, true};
  io::append_column(cats, io::StringColumn{{"y", "x"}, {}});
  EXPECT_EQ(std::get<io::Categorical>(cats).categories, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(std::get<io::Categorical>(cats).codes, (std::vector<std::int32_t>{0, 1, 0}));
  EXPECT_FALSE(std::get<io::Categorical>(cats).ordered);

  io::Column ints = io::NumericColumn({1}, false, true, "int32");
  io::append_column(ints, io::NumericColumn({2}, false, true, "int32"));
  EXPECT_EQ(std::get<io::NumericColumn>(ints).dtype, "int32");
  io::append_column(ints, io::NumericColumn({3}, false, true, "int8"));
  EXPECT_EQ(std::get<io::NumericColumn>(ints).dtype, "int64");
  io::append_column(ints, io::NumericColumn({0.5}, false, false, "float32"));
  EXPECT_EQ(std::get<io::NumericColumn>(ints).dtype, "float64");
  EXPECT_FALSE(std::get<io::NumericColumn>(ints).is_integer);
  EXPECT_EQ(std::get<io::NumericColumn>(ints).values, (std::vector<double>{1, 2, 3, 0.5}));

  io::Column flags = io::NumericColumn({1}, true, false, "bool");
  EXPECT_THROW(io::append_column(flags, io::NumericColumn({1}, false, true, "int64")),
               std::invalid_argument);
  EXPECT_THROW(io::append_column(flags, io::StringColumn{{"x"}, {}}), std::invalid_argument);
  EXPECT_THROW(io::append_column(labels, io::NumericColumn({1}, false, true, "int64")),
               std::invalid_argument);
}

}  // namespace
}  // namespace gsmap::test::h5ad
