// User goals: what the simulated user wants. A goal constrains some informable slots (a value,
// or "dontcare" for the rest) and requests some attributes of the entity it will accept
// (Schatzmann et al. 2007: constraints C and requests R). Sampled from the ontology and the
// knowledge base: with probability entity_goal_prob the constraint values are copied from a random
// entity (so the goal has a match), otherwise drawn uniformly from the ontology (it may have none;
// the user then relaxes constraints when the system says so).
#pragma once

#include <array>
#include <cstdint>

#include "metadial/core/random.h"
#include "metadial/dialog/ontology.h"

namespace metadial::dialog {

class Domain;

/// A user goal.
struct Goal {
  /// Per informable index: a value id, or kDontcare (the user accepts any value).
  std::array<int16_t, kMaxInformable> constraints{};
  /// Bit r set for each requestable index r the user wants to know.
  uint32_t requests = 0;

  Goal() { constraints.fill(static_cast<int16_t>(kDontcare)); }
  /// Number of slots constrained to a value.
  int num_constraints() const {
    int n = 0;
    for (int16_t v : constraints) n += v >= 0 ? 1 : 0;
    return n;
  }
  friend bool operator==(const Goal&, const Goal&) = default;
};

/// How goals are drawn.
struct GoalOptions {
  int min_constraints = 1;         ///< on database slots (required slots come on top)
  int max_constraints = 3;         ///< PyDial's goal generator default (maxconstraints = 3)
  int min_requests = 1;
  int max_requests = 3;
  double entity_goal_prob = 0.75;  ///< copy values from a random entity (has a match) vs uniform
  void validate() const;
};

/// Draws goals. Stateless apart from its options; the caller passes the generator.
class GoalGenerator {
 public:
  GoalGenerator(const Domain& domain, const GoalOptions& options);
  Goal sample(Rng& rng) const;
  const GoalOptions& options() const { return options_; }

 private:
  const Domain* domain_;
  GoalOptions options_;
};

}  // namespace metadial::dialog
