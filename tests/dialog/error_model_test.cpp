#include "metadial/dialog/error_model.h"

#include <gtest/gtest.h>

#include "metadial/core/error.h"
#include "metadial/dialog/ontology.h"

namespace metadial::dialog {
namespace {

// inform(food=thai) inform(area=north) for the restaurant ontology.
UserTurn sample_turn(const Ontology& o) {
  UserTurn t;
  t.push({UserActType::kInform, static_cast<int8_t>(o.slot_id("food")), static_cast<int16_t>(o.value_id(o.slot_id("food"), "thai"))});
  t.push({UserActType::kInform, static_cast<int8_t>(o.slot_id("area")), static_cast<int16_t>(o.value_id(o.slot_id("area"), "north"))});
  return t;
}

int count_differences(const UserTurn& a, const UserTurn& b) {
  int d = 0;
  for (int k = 0; k < a.size; ++k) d += a.items[static_cast<size_t>(k)] == b.items[static_cast<size_t>(k)] ? 0 : 1;
  return d;
}

TEST(ErrorModel, NoErrorGivesTheTrueActAloneWithConfidenceOne) {
  const Ontology o = Ontology::builtin("restaurant");
  for (NBestModel m : {NBestModel::kRanked, NBestModel::kSampled}) {
    ErrorModel em(o, {m, 0.0, 5});
    Rng rng(1);
    NBestList nb;
    em.corrupt(sample_turn(o), rng, nb);
    ASSERT_EQ(nb.size, 1);
    EXPECT_TRUE(nb.hyps[0].turn == sample_turn(o));
    EXPECT_FLOAT_EQ(nb.hyps[0].confidence, 1.0F);
  }
}

TEST(ErrorModel, ConfidencesAreSortedAndSumToAtMostOne) {
  const Ontology o = Ontology::builtin("restaurant");
  for (NBestModel m : {NBestModel::kRanked, NBestModel::kSampled}) {
    for (double er : {0.15, 0.30}) {
      ErrorModel em(o, {m, er, 5});
      Rng rng(2);
      NBestList nb;
      for (int k = 0; k < 5000; ++k) {
        em.corrupt(sample_turn(o), rng, nb);
        ASSERT_GE(nb.size, 1);
        ASSERT_LE(nb.size, 5);
        float sum = 0.0F;
        for (int h = 0; h < nb.size; ++h) {
          const float c = nb.hyps[static_cast<size_t>(h)].confidence;
          EXPECT_GT(c, 0.0F);
          if (h > 0) {
            EXPECT_LE(c, nb.hyps[static_cast<size_t>(h - 1)].confidence);
          }
          for (int j = 0; j < h; ++j) {
            EXPECT_FALSE(nb.hyps[static_cast<size_t>(j)].turn == nb.hyps[static_cast<size_t>(h)].turn);
          }
          sum += c;
        }
        EXPECT_LE(sum, 1.0F + 1e-6F);
      }
    }
  }
}

TEST(ErrorModel, RankedTopHypothesisIsWrongAtTheErrorRate) {
  const Ontology o = Ontology::builtin("restaurant");
  for (double er : {0.15, 0.30}) {
    ErrorModel em(o, {NBestModel::kRanked, er, 5});
    Rng rng(3);
    NBestList nb;
    const int n = 20000;
    int top_wrong = 0, confident_right = 0, confident_wrong = 0;
    for (int k = 0; k < n; ++k) {
      em.corrupt(sample_turn(o), rng, nb);
      const bool right = nb.hyps[0].turn == sample_turn(o);
      top_wrong += right ? 0 : 1;
      if (nb.hyps[0].confidence >= 0.8F) (right ? confident_right : confident_wrong) += 1;
    }
    // Binomial: sd = sqrt(er (1 - er) / n) < 0.0033.
    EXPECT_NEAR(static_cast<double>(top_wrong) / n, er, 0.015) << er;
    // Confidence is informative: P(conf >= 0.8 | right) > P(conf >= 0.8 | wrong) (= 0.25).
    EXPECT_GT(static_cast<double>(confident_right) / (n - top_wrong), 0.3);
    EXPECT_NEAR(static_cast<double>(confident_wrong) / top_wrong, 0.25, 0.03);
  }
}

TEST(ErrorModel, SampledTrueActUsuallyWinsTheVote) {
  const Ontology o = Ontology::builtin("restaurant");
  ErrorModel em(o, {NBestModel::kSampled, 0.3, 5});
  Rng rng(4);
  NBestList nb;
  int top_right = 0;
  for (int k = 0; k < 5000; ++k) {
    em.corrupt(sample_turn(o), rng, nb);
    top_right += nb.hyps[0].turn == sample_turn(o) ? 1 : 0;
  }
  // The truth gets Binomial(5, 0.7) votes and the confusions spread theirs.
  EXPECT_GT(top_right, 4500);
}

TEST(ErrorModel, AConfusionChangesExactlyOneItem) {
  const Ontology o = Ontology::builtin("restaurant");
  ErrorModel em(o, {NBestModel::kRanked, 0.3, 5});
  Rng rng(5);
  for (int k = 0; k < 2000; ++k) {
    const UserTurn c = em.confuse(sample_turn(o), rng);
    ASSERT_EQ(c.size, 2);
    EXPECT_EQ(count_differences(c, sample_turn(o)), 1);
    for (int j = 0; j < c.size; ++j) {
      const auto& it = c.items[static_cast<size_t>(j)];
      EXPECT_EQ(it.type, UserActType::kInform);
      ASSERT_GE(o.informable_index(it.slot), 0);
      EXPECT_TRUE(it.value == kDontcare || (it.value >= 0 && it.value < o.num_values(o.informable_index(it.slot))));
    }
  }
  UserTurn yes;
  yes.push({UserActType::kAffirm, -1, static_cast<int16_t>(kNoValue)});
  EXPECT_EQ(em.confuse(yes, rng).items[0].type, UserActType::kNegate);
}

TEST(ErrorModel, SameSeedSameNBest) {
  const Ontology o = Ontology::builtin("restaurant");
  ErrorModel em(o, {NBestModel::kRanked, 0.3, 5});
  Rng a(9), b(9);
  NBestList x, y;
  for (int k = 0; k < 100; ++k) {
    em.corrupt(sample_turn(o), a, x);
    em.corrupt(sample_turn(o), b, y);
    ASSERT_EQ(x.size, y.size);
    for (int h = 0; h < x.size; ++h) {
      EXPECT_TRUE(x.hyps[static_cast<size_t>(h)].turn == y.hyps[static_cast<size_t>(h)].turn);
      EXPECT_EQ(x.hyps[static_cast<size_t>(h)].confidence, y.hyps[static_cast<size_t>(h)].confidence);
    }
  }
}

TEST(ErrorModel, RejectsBadOptions) {
  const Ontology o = Ontology::builtin("restaurant");
  EXPECT_THROW(ErrorModel(o, {NBestModel::kRanked, 1.0, 5}), InvalidArgument);
  EXPECT_THROW(ErrorModel(o, {NBestModel::kRanked, 0.1, 0}), InvalidArgument);
  EXPECT_THROW(ErrorModel(o, {NBestModel::kRanked, 0.1, kMaxNBest + 1}), InvalidArgument);
}

}  // namespace
}  // namespace metadial::dialog
