#include "metadial/dialog/knowledge_base.h"

#include <gtest/gtest.h>

#include <set>

#include "dialog/toy_domain.h"
#include "metadial/core/random.h"
#include "metadial/dialog/domain.h"

namespace metadial::dialog {
namespace {

TEST(KnowledgeBase, CountsOnTheToyTableMatchHandCounts) {
  auto d = testing::toy_domain();
  const KnowledgeBase& kb = d->kb();
  auto count = [&](int colour, int size) {
    const int c[2] = {colour, size};
    return kb.count(c);
  };
  EXPECT_EQ(count(kNoValue, kNoValue), 4);
  EXPECT_EQ(count(0, kNoValue), 2);     // red
  EXPECT_EQ(count(kNoValue, 0), 3);     // small
  EXPECT_EQ(count(0, 0), 1);            // red small
  EXPECT_EQ(count(1, 1), 0);            // green large
  EXPECT_EQ(count(kDontcare, 1), 1);    // large
  EXPECT_EQ(count(2, kDontcare), 1);    // blue
}

TEST(KnowledgeBase, DiscriminatingSlotsOnTheToyTable) {
  auto d = testing::toy_domain();
  const KnowledgeBase& kb = d->kb();
  EntitySet reds(kb.size());
  const int red[2] = {0, kNoValue};
  kb.match(red, reds);
  ASSERT_EQ(reds.count(), 2);
  EXPECT_EQ(kb.discriminating_slots(reds, 0b11U), 0b10U);  // reds differ in size only
  EntitySet small(kb.size());
  const int sm[2] = {kNoValue, 0};
  kb.match(sm, small);
  EXPECT_EQ(kb.discriminating_slots(small, 0b11U), 0b01U);  // smalls differ in colour only
  EntitySet one(kb.size());
  const int rs[2] = {0, 0};
  kb.match(rs, one);
  EXPECT_EQ(kb.discriminating_slots(one, 0b11U), 0U);
}

TEST(KnowledgeBase, GeneratedTableIsDeterministicAndQueriesAgreeWithBruteForce) {
  const Ontology o = Ontology::builtin("restaurant");
  const KnowledgeBase a(o, {100, 7}), b(o, {100, 7}), c(o, {100, 8});
  ASSERT_EQ(a.size(), 100);
  int differ = 0;
  std::set<std::string> names;
  for (int e = 0; e < a.size(); ++e) {
    names.insert(a.name(e));
    EXPECT_EQ(a.name(e), b.name(e));
    for (int i = 0; i < o.num_informable(); ++i) {
      EXPECT_EQ(a.value(e, i), b.value(e, i));
      differ += a.value(e, i) != c.value(e, i) ? 1 : 0;
    }
    EXPECT_EQ(a.display(o, e, o.slot_id("phone")), b.display(o, e, o.slot_id("phone")));
  }
  EXPECT_EQ(names.size(), 100u) << "entity names are distinct";
  EXPECT_GT(differ, 50) << "another seed gives another table";

  Rng rng(3);
  EntitySet set(a.size());
  for (int trial = 0; trial < 500; ++trial) {
    int c3[3];
    for (int i = 0; i < 3; ++i) {
      const int r = static_cast<int>(rng() % static_cast<uint64_t>(o.num_values(i) + 2));
      c3[i] = r < o.num_values(i) ? r : (r == o.num_values(i) ? kDontcare : kNoValue);
    }
    int brute = 0;
    for (int e = 0; e < a.size(); ++e) {
      bool ok = true;
      for (int i = 0; i < 3; ++i) ok = ok && (c3[i] < 0 || a.value(e, i) == c3[i]);
      brute += ok ? 1 : 0;
    }
    EXPECT_EQ(a.count(c3), brute);
    a.match(c3, set);
    EXPECT_EQ(set.count(), brute);
  }
}

TEST(KnowledgeBase, SkewedValuesLeaveSomeCombinationsEmpty) {
  const Ontology o = Ontology::builtin("restaurant");
  const KnowledgeBase kb(o, {});
  int empty_pairs = 0;
  for (int area = 0; area < o.num_values(0); ++area) {
    for (int food = 0; food < o.num_values(1); ++food) {
      const int c[3] = {area, food, kNoValue};
      empty_pairs += kb.count(c) == 0 ? 1 : 0;
    }
  }
  EXPECT_GT(empty_pairs, 10);   // of 100 area x food pairs
  EXPECT_LT(empty_pairs, 95);
}

TEST(EntitySet, IteratesMembersInOrder) {
  EntitySet s(130);
  for (int e : {0, 5, 63, 64, 129}) s.set(e);
  std::vector<int> seen;
  for (int e = s.next(0); e >= 0; e = s.next(e + 1)) seen.push_back(e);
  EXPECT_EQ(seen, (std::vector<int>{0, 5, 63, 64, 129}));
  EXPECT_EQ(s.count(), 5);
  s.fill();
  EXPECT_EQ(s.count(), 130);
  s.reset(64);
  EXPECT_FALSE(s.test(64));
  EXPECT_EQ(s.count(), 129);
}

}  // namespace
}  // namespace metadial::dialog
