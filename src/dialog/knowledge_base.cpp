#include "metadial/dialog/knowledge_base.h"

#include <cmath>

#include "metadial/core/error.h"
#include "metadial/core/random.h"

namespace metadial::dialog {
namespace {

// Uniform integer in [0, n) (portable; the tiny modulo bias is irrelevant here).
int uniform_int(Rng& rng, int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }

std::string fill_pattern(const std::string& pattern, Rng& rng) {
  std::string out = pattern;
  for (char& c : out) {
    if (c == '#') c = static_cast<char>('0' + uniform_int(rng, 10));
    else if (c == '@') c = static_cast<char>('a' + uniform_int(rng, 26));
  }
  return out;
}

}  // namespace

void EntitySet::fill() {
  std::fill(words_.begin(), words_.end(), ~uint64_t{0});
  if (n_ % 64 != 0 && !words_.empty()) words_.back() = (uint64_t{1} << (n_ % 64)) - 1;
}

int EntitySet::next(int from) const {
  if (from >= n_) return -1;
  size_t w = static_cast<size_t>(from >> 6);
  uint64_t bits = words_[w] & (~uint64_t{0} << (from & 63));
  while (true) {
    if (bits) return static_cast<int>(w * 64) + std::countr_zero(bits);
    if (++w >= words_.size()) return -1;
    bits = words_[w];
  }
}

KnowledgeBase::KnowledgeBase(const Ontology& ontology, const KbOptions& opts) {
  MD_CHECK(opts.num_entities >= 1 && opts.num_entities <= 1000000, "knowledge base: num_entities ",
           opts.num_entities, " out of range (expected 1..1000000)");
  n_ = opts.num_entities;
  num_informable_ = ontology.num_informable();
  num_slots_ = ontology.num_slots();
  Rng rng(derive_seed(opts.seed, {0x6b62ULL /* "kb" */, static_cast<uint64_t>(n_)}));

  // Per database slot: a seed-dependent ranking of the values and Zipf weights over the ranks.
  values_.assign(static_cast<size_t>(n_ * num_informable_), kNoValue);
  for (int i = 0; i < num_informable_; ++i) {
    const Slot& s = ontology.slot(ontology.informable()[static_cast<size_t>(i)]);
    if (!s.in_kb) continue;
    const int k = static_cast<int>(s.values.size());
    std::vector<int> rank(static_cast<size_t>(k));
    for (int v = 0; v < k; ++v) rank[static_cast<size_t>(v)] = v;
    for (int v = k - 1; v > 0; --v) std::swap(rank[static_cast<size_t>(v)], rank[static_cast<size_t>(uniform_int(rng, v + 1))]);
    std::vector<double> cum(static_cast<size_t>(k));
    double total = 0.0;
    for (int v = 0; v < k; ++v) {
      total += 1.0 / std::pow(static_cast<double>(rank[static_cast<size_t>(v)] + 1), s.kb_skew);
      cum[static_cast<size_t>(v)] = total;
    }
    for (int e = 0; e < n_; ++e) {
      const double u = uniform01(rng) * total;
      int v = 0;
      while (v < k - 1 && cum[static_cast<size_t>(v)] <= u) ++v;
      values_[static_cast<size_t>(e * num_informable_ + i)] = v;
    }
  }

  // Names: distinct combinations of the name parts in a seed-dependent order; when there are
  // fewer combinations than entities, a number is appended.
  const auto& parts = ontology.name_parts();
  int64_t combos = 1;
  for (const auto& p : parts) combos = std::min<int64_t>(combos * static_cast<int64_t>(p.size()), int64_t{1} << 40);
  std::vector<int64_t> order;
  if (combos >= n_) {
    // Draw n_ distinct combination indices (rejection is fine: combos >= n_).
    std::vector<int64_t> all;
    if (combos <= 100000) {
      all.resize(static_cast<size_t>(combos));
      for (int64_t c = 0; c < combos; ++c) all[static_cast<size_t>(c)] = c;
      for (int64_t c = combos - 1; c > 0; --c) {
        std::swap(all[static_cast<size_t>(c)], all[static_cast<size_t>(rng() % static_cast<uint64_t>(c + 1))]);
      }
      order.assign(all.begin(), all.begin() + n_);
    } else {
      for (int e = 0; e < n_; ++e) order.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(combos)));
    }
  }
  names_.resize(static_cast<size_t>(n_));
  for (int e = 0; e < n_; ++e) {
    int64_t c = order.empty() ? e % combos : order[static_cast<size_t>(e)];
    std::string name;
    for (const auto& p : parts) {
      if (!name.empty()) name += ' ';
      name += p[static_cast<size_t>(c % static_cast<int64_t>(p.size()))];
      c /= static_cast<int64_t>(p.size());
    }
    if (order.empty() || combos > 100000) name += " " + std::to_string(e + 1);
    names_[static_cast<size_t>(e)] = std::move(name);
  }

  attributes_.resize(static_cast<size_t>(n_ * num_slots_));
  for (int e = 0; e < n_; ++e) {
    for (int id = 1; id < num_slots_; ++id) {
      const Slot& s = ontology.slot(id);
      if (!s.informable) attributes_[static_cast<size_t>(e * num_slots_ + id)] = fill_pattern(s.pattern, rng);
    }
  }
  build_index(ontology);
}

KnowledgeBase KnowledgeBase::from_rows(const Ontology& ontology, const std::vector<std::vector<std::string>>& rows) {
  MD_CHECK(!rows.empty(), "knowledge base: no rows");
  KnowledgeBase kb;
  kb.n_ = static_cast<int>(rows.size());
  kb.num_informable_ = ontology.num_informable();
  kb.num_slots_ = ontology.num_slots();
  kb.values_.assign(static_cast<size_t>(kb.n_ * kb.num_informable_), kNoValue);
  std::vector<int> kb_slots;
  for (int i = 0; i < kb.num_informable_; ++i) {
    if (ontology.slot(ontology.informable()[static_cast<size_t>(i)]).in_kb) kb_slots.push_back(i);
  }
  for (int e = 0; e < kb.n_; ++e) {
    const auto& row = rows[static_cast<size_t>(e)];
    MD_CHECK(row.size() == kb_slots.size(), "knowledge base row ", e, ": ", row.size(), " values, expected ",
             kb_slots.size(), " (one per database informable slot)");
    for (size_t k = 0; k < kb_slots.size(); ++k) {
      const int slot_id = ontology.informable()[static_cast<size_t>(kb_slots[k])];
      const int v = ontology.value_id(slot_id, row[k]);
      MD_CHECK(v >= 0, "knowledge base row ", e, ": slot '", ontology.slot(slot_id).name, "' needs a value, not dontcare");
      kb.values_[static_cast<size_t>(e * kb.num_informable_ + kb_slots[k])] = v;
    }
    kb.names_.push_back("entity " + std::to_string(e));
  }
  kb.attributes_.resize(static_cast<size_t>(kb.n_ * kb.num_slots_));
  for (int e = 0; e < kb.n_; ++e) {
    for (int id = 1; id < kb.num_slots_; ++id) {
      if (!ontology.slot(id).informable) {
        kb.attributes_[static_cast<size_t>(e * kb.num_slots_ + id)] = ontology.slot(id).name + " of entity " + std::to_string(e);
      }
    }
  }
  kb.build_index(ontology);
  return kb;
}

void KnowledgeBase::build_index(const Ontology& ontology) {
  all_.resize(n_);
  all_.fill();
  offsets_.assign(static_cast<size_t>(num_informable_), 0);
  int total = 0;
  kb_mask_ = 0;
  for (int i = 0; i < num_informable_; ++i) {
    offsets_[static_cast<size_t>(i)] = total;
    total += ontology.num_values(i);
    if (ontology.slot(ontology.informable()[static_cast<size_t>(i)]).in_kb) kb_mask_ |= 1U << i;
  }
  value_sets_.assign(static_cast<size_t>(total), EntitySet(n_));
  for (int e = 0; e < n_; ++e) {
    for (int i = 0; i < num_informable_; ++i) {
      const int v = value(e, i);
      if (v >= 0) value_sets_[static_cast<size_t>(offsets_[static_cast<size_t>(i)] + v)].set(e);
    }
  }
}

std::string KnowledgeBase::display(const Ontology& ontology, int e, int slot_id) const {
  if (slot_id == Ontology::entity_slot()) return name(e);
  const int i = ontology.informable_index(slot_id);
  if (i >= 0) return std::string(ontology.value_name(slot_id, value(e, i)));
  return attributes_[static_cast<size_t>(e * num_slots_ + slot_id)];
}

void KnowledgeBase::match(std::span<const int> constraints, EntitySet& out) const {
  out = all_;
  for (int i = 0; i < num_informable_; ++i) {
    const int v = constraints[static_cast<size_t>(i)];
    if (v >= 0 && ((kb_mask_ >> i) & 1U)) out.intersect(value_set(i, v));
  }
}

int KnowledgeBase::count(std::span<const int> constraints) const {
  EntitySet s(n_);
  match(constraints, s);
  return s.count();
}

uint32_t KnowledgeBase::discriminating_slots(const EntitySet& set, uint32_t candidate_mask) const {
  uint32_t out = 0;
  candidate_mask &= kb_mask_;
  const int first = set.next(0);
  if (first < 0) return 0;
  for (int i = 0; i < num_informable_; ++i) {
    if (!((candidate_mask >> i) & 1U)) continue;
    const int v0 = value(first, i);
    for (int e = set.next(first + 1); e >= 0; e = set.next(e + 1)) {
      if (value(e, i) != v0) {
        out |= 1U << i;
        break;
      }
    }
  }
  return out;
}

}  // namespace metadial::dialog
