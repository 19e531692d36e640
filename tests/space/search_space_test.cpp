#include "metadial/space/search_space.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/random.h"

namespace metadial::space {
namespace {

TEST(SearchSpace, RejectsBadBoundsNamingTheParameter) {
  SearchSpace s;
  try {
    s.add_float("lr", 1.0, 0.5);
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'lr'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(s.add_float("lr", 0.0, 1.0, /*log=*/true), InvalidArgument);
  EXPECT_THROW(s.add_float("lr", -1.0, 1.0, /*log=*/true), InvalidArgument);
  EXPECT_THROW(s.add_int("n", 5, 5), InvalidArgument);
  EXPECT_THROW(s.add_int("n", 0, 10, 0), InvalidArgument);
  EXPECT_THROW(s.add_int("n", 0, 10, 1, /*log=*/true), InvalidArgument);
  EXPECT_THROW(s.add_int("n", 1, 10, 2, /*log=*/true), InvalidArgument);
  EXPECT_THROW(s.add_categorical("k", {}), InvalidArgument);
  EXPECT_THROW(s.add_categorical("k", {"a", "a"}), InvalidArgument);
  s.add_float("x", 0, 1);
  EXPECT_THROW(s.add_float("x", 0, 2), InvalidArgument);
}

TEST(SearchSpace, EncodeDecodeRoundTrips) {
  SearchSpace s;
  s.add_float("lr", 1e-5, 1e-1, true).add_float("m", -2, 3).add_int("layers", 1, 9, 2).add_int("units", 16, 512, 1, true);
  s.add_categorical("kernel", {"rbf", "linear", "poly"});
  Config c{{"lr", 1e-3}, {"m", 0.5}, {"layers", int64_t{5}}, {"units", int64_t{64}}, {"kernel", std::string("poly")}};
  auto u = s.encode(c);
  ASSERT_EQ(u.size(), 5u);
  for (double x : u) {
    EXPECT_GE(x, 0.0);
    EXPECT_LE(x, 1.0);
  }
  EXPECT_NEAR(u[0], 0.5, 1e-12);  // log10: -5 .. -1, -3 is the middle
  EXPECT_NEAR(u[1], 0.5, 1e-12);
  EXPECT_NEAR(u[2], 2.5 / 5.0, 1e-12);  // values 1,3,5,7,9: 5 is the third cell
  EXPECT_NEAR(u[4], 2.5 / 3.0, 1e-12);
  Config back = s.decode(u);
  EXPECT_NEAR(std::get<double>(back["lr"]), 1e-3, 1e-15);
  EXPECT_DOUBLE_EQ(std::get<double>(back["m"]), 0.5);
  EXPECT_EQ(std::get<int64_t>(back["layers"]), 5);
  EXPECT_EQ(std::get<int64_t>(back["units"]), 64);
  EXPECT_EQ(std::get<std::string>(back["kernel"]), "poly");
}

TEST(SearchSpace, DecodeCoversEveryDiscreteValueEvenly) {
  SearchSpace s;
  s.add_int("n", 0, 3).add_categorical("c", {"a", "b"});
  std::map<int64_t, int> counts;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const double u = (i + 0.5) / n;
    std::vector<double> x{u, u};
    counts[std::get<int64_t>(s.decode(x)["n"])]++;
  }
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [v, k] : counts) EXPECT_EQ(k, n / 4) << v;
}

TEST(SearchSpace, LogIntCoversEndpoints) {
  SearchSpace s;
  s.add_int("u", 1, 1000, 1, true);
  std::vector<double> lo{0.0}, hi{1.0};
  EXPECT_EQ(std::get<int64_t>(s.decode(lo)["u"]), 1);
  EXPECT_EQ(std::get<int64_t>(s.decode(hi)["u"]), 1000);
  for (int64_t v : {1, 2, 10, 999, 1000}) {
    Config c{{"u", v}};
    EXPECT_EQ(std::get<int64_t>(s.decode(s.encode(c))["u"]), v);
  }
}

TEST(SearchSpace, SnapIsIdempotentAndKeepsFloats) {
  SearchSpace s;
  s.add_float("x", 0, 1).add_int("n", 0, 9).add_categorical("c", {"a", "b", "c"});
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    std::vector<double> u{uniform01(rng), uniform01(rng), uniform01(rng)};
    auto a = s.snap(u);
    EXPECT_DOUBLE_EQ(a[0], u[0]);
    EXPECT_EQ(a, s.snap(a));
    EXPECT_EQ(s.decode(a), s.decode(u));
  }
}

TEST(SearchSpace, EncodeRejectsBadValues) {
  SearchSpace s;
  s.add_float("x", 0, 1).add_int("n", 0, 10, 2).add_categorical("c", {"a"});
  EXPECT_THROW(s.encode({{"x", 2.0}, {"n", int64_t{2}}, {"c", std::string("a")}}), InvalidArgument);
  EXPECT_THROW(s.encode({{"x", 0.5}, {"n", int64_t{3}}, {"c", std::string("a")}}), InvalidArgument);
  EXPECT_THROW(s.encode({{"x", 0.5}, {"n", int64_t{2}}, {"c", std::string("z")}}), InvalidArgument);
  EXPECT_THROW(s.encode({{"x", 0.5}, {"n", int64_t{2}}}), InvalidArgument);
}

TEST(SearchSpace, JsonRoundTrip) {
  SearchSpace s;
  s.add_float("lr", 1e-5, 1e-1, true).add_int("n", 0, 10, 2).add_categorical("c", {"a", "b"});
  EXPECT_EQ(SearchSpace::from_json(s.to_json()), s);
  Config c{{"lr", 1e-3}, {"n", int64_t{4}}, {"c", std::string("b")}};
  EXPECT_EQ(config_from_json(to_json(c)), c);
  EXPECT_EQ(config_from_json(nlohmann::json::parse(to_json(c).dump())), c);
}

}  // namespace
}  // namespace metadial::space
