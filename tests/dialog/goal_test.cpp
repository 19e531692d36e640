#include "metadial/dialog/goal.h"

#include <gtest/gtest.h>

#include "metadial/core/error.h"
#include "metadial/dialog/domain.h"

namespace metadial::dialog {
namespace {

int matches(const Domain& d, const Goal& g) {
  int c[kMaxInformable];
  for (int i = 0; i < kMaxInformable; ++i) c[i] = g.constraints[static_cast<size_t>(i)];
  return d.kb().count(std::span<const int>(c, static_cast<size_t>(d.ontology().num_informable())));
}

TEST(GoalGenerator, GoalsRespectTheirOptions) {
  auto d = Domain::builtin("restaurant");
  const Ontology& o = d->ontology();
  GoalGenerator gen(*d, {});
  Rng rng(1);
  int no_match = 0;
  const int n = 4000;
  for (int k = 0; k < n; ++k) {
    const Goal g = gen.sample(rng);
    EXPECT_GE(g.num_constraints(), 1);
    EXPECT_LE(g.num_constraints(), 3);
    int requests = 0;
    for (int r = 0; r < o.num_requestable(); ++r) {
      if (!((g.requests >> r) & 1U)) continue;
      ++requests;
      const int id = o.requestable()[static_cast<size_t>(r)];
      EXPECT_NE(id, Ontology::entity_slot());
      const int i = o.informable_index(id);
      if (i >= 0) {
        EXPECT_EQ(g.constraints[static_cast<size_t>(i)], kDontcare) << "requests only what is not constrained";
      }
    }
    EXPECT_GE(requests, 1);
    EXPECT_LE(requests, 3);
    no_match += matches(*d, g) == 0 ? 1 : 0;
  }
  // Some goals have no matching entity, most do.
  EXPECT_GT(no_match, n / 40);
  EXPECT_LT(no_match, n / 3);
}

TEST(GoalGenerator, RequiredSlotsAreAlwaysConstrained) {
  auto d = Domain::builtin("movie");
  const int tickets = d->ontology().informable_index(d->ontology().slot_id("num_tickets"));
  GoalGenerator gen(*d, {});
  Rng rng(2);
  for (int k = 0; k < 500; ++k) EXPECT_GE(gen.sample(rng).constraints[static_cast<size_t>(tickets)], 0);
}

TEST(GoalGenerator, EntityGoalsAlwaysMatch) {
  auto d = Domain::builtin("restaurant");
  GoalOptions opts;
  opts.entity_goal_prob = 1.0;
  GoalGenerator gen(*d, opts);
  Rng rng(3);
  for (int k = 0; k < 500; ++k) EXPECT_GT(matches(*d, gen.sample(rng)), 0);
}

TEST(GoalGenerator, SameSeedSameGoals) {
  auto d = Domain::builtin("restaurant");
  GoalGenerator gen(*d, {});
  Rng a(4), b(4);
  for (int k = 0; k < 100; ++k) EXPECT_EQ(gen.sample(a), gen.sample(b));
}

TEST(GoalGenerator, RejectsBadOptions) {
  auto d = Domain::builtin("restaurant");
  GoalOptions o;
  o.min_constraints = 0;
  EXPECT_THROW(GoalGenerator(*d, o), InvalidArgument);
  o = {};
  o.max_requests = 0;
  EXPECT_THROW(GoalGenerator(*d, o), InvalidArgument);
}

}  // namespace
}  // namespace metadial::dialog
