#include "metadial/agents/policy.h"

#include "metadial/core/error.h"

namespace metadial::agents {

int RandomPolicy::act(const PolicyInput& input) {
  int allowed = 0;
  for (uint8_t m : input.action_mask) allowed += m ? 1 : 0;
  MD_CHECK(allowed > 0, "RandomPolicy: every action is masked");
  int k = static_cast<int>(rng_() % static_cast<uint64_t>(allowed));
  for (size_t a = 0; a < input.action_mask.size(); ++a) {
    if (input.action_mask[a] && k-- == 0) return static_cast<int>(a);
  }
  return -1;  // unreachable
}

}  // namespace metadial::agents
