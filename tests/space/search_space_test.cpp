#include "metadial/space/search_space.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

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

// Issue 21, item 6: (high - low) / step + 1 overflowed int64_t for the whole int64 range, and
// every point of the cube decoded to one constant.
TEST(SearchSpace, IntOverTheWholeInt64RangeSamplesSpreadOutValues) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  SearchSpace s;
  s.add_int("n", kMin, kMax);
  EXPECT_EQ(s.cardinality(0), kMax);  // 2^64 values, saturated
  Rng rng(11);
  std::set<int64_t> seen;
  int negative = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::vector<double> u{uniform01(rng)};
    const int64_t v = std::get<int64_t>(s.decode(u).at("n"));
    seen.insert(v);
    negative += v < 0;
    // A grid of 2^64 points is finer than a double: encode -> decode lands on v or a neighbour
    // within the double's resolution, and snap is stable.
    const Config c{{"n", v}};
    const int64_t back = std::get<int64_t>(s.decode(s.encode(c)).at("n"));
    EXPECT_LE(back > v ? static_cast<uint64_t>(back) - static_cast<uint64_t>(v)
                       : static_cast<uint64_t>(v) - static_cast<uint64_t>(back),
              uint64_t{1} << 12)
        << v << " -> " << back;
    EXPECT_EQ(s.snap(s.snap(u)), s.snap(u));
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_GT(negative, 400);
  EXPECT_LT(negative, 600);
  EXPECT_LT(*seen.begin(), kMin / 2);
  EXPECT_GT(*seen.rbegin(), kMax / 2);
  for (int64_t v : {kMin, int64_t{0}, kMax}) {
    const Config c{{"n", v}};
    const auto u = s.encode(c);
    EXPECT_GE(u[0], 0.0);
    EXPECT_LE(u[0], 1.0);
    EXPECT_EQ(std::get<int64_t>(s.decode(u).at("n")), v);
  }
  const std::vector<double> lo{0.0}, hi{1.0};
  EXPECT_EQ(std::get<int64_t>(s.decode(lo).at("n")), kMin);
  EXPECT_EQ(std::get<int64_t>(s.decode(hi).at("n")), kMax);
}

TEST(SearchSpace, IntGridWiderThanInt64KeepsItsStepAndEndpoints) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kStep = int64_t{1} << 62;
  SearchSpace s;
  s.add_int("n", kMin, kMax, kStep);  // kMin, -2^62, 0, 2^62
  EXPECT_EQ(s.cardinality(0), 4);
  std::set<int64_t> seen;
  for (int i = 0; i < 8; ++i) {
    const std::vector<double> u{(i + 0.5) / 8};
    seen.insert(std::get<int64_t>(s.decode(u).at("n")));
  }
  EXPECT_EQ(seen, (std::set<int64_t>{kMin, -kStep, 0, kStep}));
  for (int64_t v : seen) {
    const Config c{{"n", v}};
    EXPECT_EQ(std::get<int64_t>(s.decode(s.encode(c)).at("n")), v);
  }
  EXPECT_THROW(s.encode({{"n", int64_t{1}}}), InvalidArgument);  // off the grid
  EXPECT_THROW(s.encode({{"n", 1e300}}), InvalidArgument);       // an integral double past int64
  SearchSpace top;
  top.add_int("n", 1, kMax, 1, /*log=*/true);
  const std::vector<double> hi{1.0};
  EXPECT_EQ(std::get<int64_t>(top.decode(hi).at("n")), kMax);
}

// Issue 21, item 6: high - low overflowed to inf, and the cube decoded to high (u > 0) or NaN.
TEST(SearchSpace, FloatOverTheWholeDoubleRangeDecodesFiniteSpreadOutValues) {
  SearchSpace s;
  s.add_float("x", -1e308, 1e308);
  Rng rng(5);
  std::set<double> seen;
  for (int i = 0; i < 200; ++i) {
    const std::vector<double> u{uniform01(rng)};
    const double x = std::get<double>(s.decode(u).at("x"));
    ASSERT_TRUE(std::isfinite(x)) << u[0];
    seen.insert(x);
    const auto back = s.encode({{"x", x}});
    EXPECT_NEAR(back[0], u[0], 1e-12);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_LT(*seen.begin(), -1e307);
  EXPECT_GT(*seen.rbegin(), 1e307);
  const std::vector<double> lo{0.0}, mid{0.5}, hi{1.0};
  EXPECT_EQ(std::get<double>(s.decode(lo).at("x")), -1e308);
  EXPECT_EQ(std::get<double>(s.decode(mid).at("x")), 0.0);
  EXPECT_EQ(std::get<double>(s.decode(hi).at("x")), 1e308);
  for (double x : {-1e308, 0.0, 1e308}) {
    const auto u = s.encode({{"x", x}});
    ASSERT_TRUE(std::isfinite(u[0])) << x;
    EXPECT_EQ(std::get<double>(s.decode(u).at("x")), x);
  }
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
