#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/progress.h"
#include "metadial/core/random.h"

namespace metadial {
namespace {

TEST(Error, CheckBuildsTheMessageFromItsArguments) {
  try {
    const double lo = 2, hi = 1;
    MD_CHECK(lo < hi, "parameter '", "lr", "': low ", lo, " >= high ", hi);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "parameter 'lr': low 2 >= high 1");
  }
  EXPECT_THROW(MD_CHECK_AS(ConfigError, false, "x"), ConfigError);
  EXPECT_NO_THROW(MD_CHECK(true, "never built"));
}

TEST(Error, AssertSaysItIsABugAndWhere) {
  try {
    MD_ASSERT(1 + 1 == 3, "math");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("internal error"), std::string::npos);
    EXPECT_NE(m.find("core_test.cpp"), std::string::npos);
    EXPECT_NE(m.find("math"), std::string::npos);
  }
}

TEST(Random, DerivedSeedsAreDeterministicAndDistinct) {
  EXPECT_EQ(derive_seed(1, {2, 3}), derive_seed(1, {2, 3}));
  std::set<uint64_t> seen;
  for (uint64_t s = 0; s < 10; ++s) {
    for (uint64_t k = 0; k < 100; ++k) seen.insert(derive_seed(s, {k}));
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(1, {3, 2}));
}

TEST(Random, Uniform01AndNormalHaveTheRightMoments) {
  Rng rng(42);
  double s = 0, s2 = 0, n1 = 0, n2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = uniform01(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    s2 += u * u;
    const double z = standard_normal(rng);
    n1 += z;
    n2 += z * z;
  }
  EXPECT_NEAR(s / n, 0.5, 0.005);
  EXPECT_NEAR(s2 / n - 0.25, 1.0 / 12.0, 0.005);
  EXPECT_NEAR(n1 / n, 0.0, 0.01);
  EXPECT_NEAR(n2 / n, 1.0, 0.01);
}

TEST(Progress, RendersABarWithCountAndStatus) {
  EXPECT_EQ(ProgressDisplay::render("tune", 5, 10, "best 1", 10), "tune [#####-----] 5/10  best 1");
  EXPECT_EQ(ProgressDisplay::render("tune", 0, 0, "", 10), "tune 0");
  EXPECT_EQ(ProgressDisplay::render("t", 12, 10, "", 4), "t [####] 12/10");
}

TEST(Progress, PlainModePrintsFewLinesAndTheLast) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    ProgressDisplay p("run", 100, f, false);
    for (int i = 1; i <= 100; ++i) p.update(i, "");
  }
  std::fclose(f);
  const std::string out(buf, len);
  std::free(buf);
  const auto lines = std::count(out.begin(), out.end(), '\n');
  EXPECT_GE(lines, 2);
  EXPECT_LE(lines, 12);
  EXPECT_NE(out.find("100/100"), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(Progress, RendersARealAmountWithItsUnit) {
  EXPECT_EQ(ProgressDisplay::render_amount("tune", 2.5, 5.0, "cost", "best 1", 10),
            "tune [#####-----] 2.5/5 cost  best 1");
  EXPECT_EQ(ProgressDisplay::render_amount("tune", 0.3333333, 20.0, "cost", "", 4), "tune [----] 0.3333/20 cost");
  EXPECT_EQ(ProgressDisplay::render_amount("t", 1.5, 0.0, "cost", "", 4), "t 1.5 cost");  // no known total
}

// What a display writes to a file (plain mode), line by line.
std::vector<std::string> plain_lines(const std::function<void(std::FILE*)>& use) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  use(f);
  std::fclose(f);
  std::istringstream in(std::string(buf, len));
  std::free(buf);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Progress, PlainModeCountsAnAmountByTenthsAndEndsWithTheLastUpdate) {
  const auto lines = plain_lines([](std::FILE* f) {
    ProgressDisplay p("tune", 20.0, "cost", f, false);
    for (int i = 1; i <= 30; ++i) p.update_amount(0.25 * i, "");  // to 7.5 of 20: the budget is not reached
  });
  // The first update, the tenths 2, 4 and 6 crossed, then the last one (printed by finish()).
  ASSERT_EQ(lines.size(), 5U);
  EXPECT_NE(lines[0].find("0.25/20 cost"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" 2/20 cost"), std::string::npos) << lines[1];
  EXPECT_NE(lines[4].find("7.5/20 cost"), std::string::npos) << lines[4];
  // A count that reaches its total ends on it, once.
  const auto counted = plain_lines([](std::FILE* f) {
    ProgressDisplay p("run", 5, f, false);
    for (int i = 1; i <= 5; ++i) p.update(i, "");
    p.finish();
  });
  ASSERT_EQ(counted.size(), 5U);  // 1..5 of 5: every update crosses a tenth
  EXPECT_NE(counted.back().find("5/5"), std::string::npos);
}

}  // namespace
}  // namespace metadial
