#include "metadial/dialog/error_model.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "metadial/core/error.h"

namespace metadial::dialog {
namespace {

int uniform_int(Rng& rng, int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

void ErrorModelOptions::validate() const {
  MD_CHECK(error_rate >= 0.0 && error_rate < 1.0, "error model: error_rate ", error_rate, " not in [0, 1)");
  MD_CHECK(nbest_size >= 1 && nbest_size <= kMaxNBest, "error model: nbest_size ", nbest_size, " not in [1, ",
           kMaxNBest, "]");
  MD_CHECK(miss_prob >= 0.0 && miss_prob <= 1.0, "error model: miss_prob ", miss_prob, " not in [0, 1]");
  MD_CHECK(value_confusion_prob >= 0.0 && value_confusion_prob <= 1.0, "error model: value_confusion_prob ",
           value_confusion_prob, " not in [0, 1]");
}

ErrorModel::ErrorModel(const Ontology& ontology, const ErrorModelOptions& options)
    : ontology_(&ontology), options_(options) {
  options_.validate();
  // Similar values by edit distance (ties by value id): computed once, strings never per turn.
  for (int i = 0; i < ontology.num_informable(); ++i) {
    offset_.push_back(static_cast<int>(neighbours_.size()));
    const auto& values = ontology.slot(ontology.informable()[static_cast<size_t>(i)]).values;
    const int n = static_cast<int>(values.size());
    for (int v = 0; v < n; ++v) {
      std::vector<std::pair<int, int>> others;
      for (int w = 0; w < n; ++w) {
        if (w != v) others.emplace_back(edit_distance(values[static_cast<size_t>(v)], values[static_cast<size_t>(w)]), w);
      }
      std::sort(others.begin(), others.end());
      for (const auto& [d, w] : others) neighbours_.push_back(static_cast<int16_t>(w));
    }
  }
}

int ErrorModel::similar_value(int i, int value, Rng& rng) const {
  const int n = ontology_->num_values(i);
  if (value < 0 || n < 2 || uniform01(rng) < 0.1) {  // dontcare, or away from dontcare
    if (value == kDontcare || n < 2) return value == kDontcare ? uniform_int(rng, n) : kDontcare;
    if (value < 0) return uniform_int(rng, n);
    return kDontcare;
  }
  // The j-th most similar value with probability 2^-(j+1) (the last one takes the remainder).
  int j = 0;
  while (j < n - 2 && uniform01(rng) < 0.5) ++j;
  return neighbours_[static_cast<size_t>(offset_[static_cast<size_t>(i)] + value * (n - 1) + j)];
}

UserTurn ErrorModel::confuse(const UserTurn& truth, Rng& rng) const {
  UserTurn out = truth;
  if (out.size == 0) return out;
  const Ontology& o = *ontology_;
  UserActItem& it = out.items[static_cast<size_t>(uniform_int(rng, out.size))];
  switch (it.type) {
    case UserActType::kInform: {
      const int i = o.informable_index(it.slot);
      if (i < 0) break;
      const bool keep_slot = o.num_informable() == 1 || uniform01(rng) < options_.value_confusion_prob;
      if (keep_slot) {
        it.value = static_cast<int16_t>(similar_value(i, it.value, rng));
      } else {
        int j = uniform_int(rng, o.num_informable() - 1);
        if (j >= i) ++j;
        it.slot = static_cast<int8_t>(o.informable()[static_cast<size_t>(j)]);
        it.value = static_cast<int16_t>(uniform_int(rng, o.num_values(j)));
      }
      break;
    }
    case UserActType::kRequest: {
      const int r = o.requestable_index(it.slot);
      if (r < 0 || o.num_requestable() < 2) break;
      int k = uniform_int(rng, o.num_requestable() - 1);
      if (k >= r) ++k;
      it.slot = static_cast<int8_t>(o.requestable()[static_cast<size_t>(k)]);
      break;
    }
    case UserActType::kAffirm: it.type = UserActType::kNegate; break;
    case UserActType::kNegate: it.type = UserActType::kAffirm; break;
    case UserActType::kReqalts:
    case UserActType::kHello:
    case UserActType::kBye: it.type = UserActType::kNull; break;
    case UserActType::kNull: break;
  }
  return out;
}

void ErrorModel::corrupt(const UserTurn& truth, Rng& rng, NBestList& out) const {
  out.size = 0;
  if (options_.error_rate <= 0.0) {
    out.hyps[0].turn = truth;
    out.hyps[0].confidence = 1.0F;
    out.size = 1;
    return;
  }
  if (options_.model == NBestModel::kRanked) {
    ranked(truth, rng, out);
  } else {
    sampled(truth, rng, out);
  }
}

void ErrorModel::ranked(const UserTurn& truth, Rng& rng, NBestList& out) const {
  const int n = options_.nbest_size;
  const bool top_ok = uniform01(rng) >= options_.error_rate;
  const int alternatives = uniform_int(rng, n);  // 0 .. n-1 hypotheses after the top
  // Rank (1-based among the alternatives) of the true turn when the top is wrong, 0 if absent.
  int true_rank = 0;
  if (!top_ok && alternatives > 0 && uniform01(rng) >= options_.miss_prob) true_rank = 1 + uniform_int(rng, alternatives);

  auto contains = [&](const UserTurn& t) {
    for (int k = 0; k < out.size; ++k) {
      if (out.hyps[static_cast<size_t>(k)].turn == t) return true;
    }
    return false;
  };
  auto distinct_confusion = [&](UserTurn* t) {
    for (int attempt = 0; attempt < 4; ++attempt) {
      *t = confuse(truth, rng);
      if (!(*t == truth) && !contains(*t)) return true;
    }
    return false;
  };
  UserTurn t;
  if (top_ok) {
    out.hyps[0].turn = truth;
  } else if (distinct_confusion(&t)) {
    out.hyps[0].turn = t;
  } else {
    out.hyps[0].turn = truth;  // nothing to confuse (e.g. null()): the top stays right
  }
  const bool correct = out.hyps[0].turn == truth;
  out.size = 1;
  for (int k = 1; k <= alternatives; ++k) {
    if (k == true_rank) {
      out.hyps[static_cast<size_t>(out.size++)].turn = truth;
    } else if (distinct_confusion(&t)) {
      out.hyps[static_cast<size_t>(out.size++)].turn = t;
    }
  }
  // Confidences.
  const double er = options_.error_rate;
  const double top = correct ? 1.0 - 2.0 * er * uniform01(rng) : 0.2 + 0.8 * uniform01(rng);
  const double top_c = std::clamp(top, 0.05, 1.0);
  out.hyps[0].confidence = static_cast<float>(top_c);
  const int m = out.size - 1;
  const double rest = 1.0 - top_c;
  for (int k = 1; k <= m; ++k) {
    const double c = std::min(top_c, rest * uniform01(rng) / m);
    out.hyps[static_cast<size_t>(k)].confidence = static_cast<float>(c);
  }
  // Alternatives by decreasing confidence (insertion sort; the top stays first).
  for (int a = 2; a <= m; ++a) {
    Hypothesis h = out.hyps[static_cast<size_t>(a)];
    int b = a - 1;
    while (b >= 1 && out.hyps[static_cast<size_t>(b)].confidence < h.confidence) {
      out.hyps[static_cast<size_t>(b + 1)] = out.hyps[static_cast<size_t>(b)];
      --b;
    }
    out.hyps[static_cast<size_t>(b + 1)] = h;
  }
}

void ErrorModel::sampled(const UserTurn& truth, Rng& rng, NBestList& out) const {
  const int m = options_.nbest_size;
  for (int s = 0; s < m; ++s) {
    const bool wrong = uniform01(rng) < options_.error_rate;
    const UserTurn h = wrong ? confuse(truth, rng) : truth;
    int k = 0;
    while (k < out.size && !(out.hyps[static_cast<size_t>(k)].turn == h)) ++k;
    if (k == out.size) {
      out.hyps[static_cast<size_t>(k)].turn = h;
      out.hyps[static_cast<size_t>(k)].confidence = 0.0F;
      ++out.size;
    }
    out.hyps[static_cast<size_t>(k)].confidence += 1.0F;  // a count until the end
  }
  for (int k = 0; k < out.size; ++k) out.hyps[static_cast<size_t>(k)].confidence /= static_cast<float>(m);
  // Stable insertion sort by decreasing confidence.
  for (int a = 1; a < out.size; ++a) {
    Hypothesis h = out.hyps[static_cast<size_t>(a)];
    int b = a - 1;
    while (b >= 0 && out.hyps[static_cast<size_t>(b)].confidence < h.confidence) {
      out.hyps[static_cast<size_t>(b + 1)] = out.hyps[static_cast<size_t>(b)];
      --b;
    }
    out.hyps[static_cast<size_t>(b + 1)] = h;
  }
}

}  // namespace metadial::dialog
