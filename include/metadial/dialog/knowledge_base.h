// Knowledge base (database) of a domain: a table of entities with one value per database
// informable slot, plus display attributes (phone, address, ...). Generated deterministically from
// a seed: each slot's values follow a Zipf law with the ontology's kb_skew over a seed-dependent
// ranking of the values, so some value combinations are absent and some user goals have no match.
//
// Queries are bitset intersections (one precomputed bitset per slot value), so counting the
// entities that match a set of constraints costs a few word operations: this runs every turn.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "metadial/dialog/ontology.h"

namespace metadial::dialog {

/// How to generate a knowledge base.
struct KbOptions {
  int num_entities = 100;  ///< number of entities (>= 1)
  uint64_t seed = 0;       ///< the same seed gives the same table
};

/// A set of entity ids as a bitset. Value type; sized once, reused without allocation.
class EntitySet {
 public:
  EntitySet() = default;
  explicit EntitySet(int num_entities) { resize(num_entities); }
  void resize(int num_entities) {
    n_ = num_entities;
    words_.assign(static_cast<size_t>((num_entities + 63) / 64), 0);
  }
  int capacity() const { return n_; }
  /// Every entity in.
  void fill();
  void clear() { std::fill(words_.begin(), words_.end(), 0); }
  void set(int e) { words_[static_cast<size_t>(e >> 6)] |= uint64_t{1} << (e & 63); }
  void reset(int e) { words_[static_cast<size_t>(e >> 6)] &= ~(uint64_t{1} << (e & 63)); }
  bool test(int e) const { return (words_[static_cast<size_t>(e >> 6)] >> (e & 63)) & 1U; }
  /// this &= other.
  void intersect(const EntitySet& other) {
    for (size_t w = 0; w < words_.size(); ++w) words_[w] &= other.words_[w];
  }
  /// this &= ~other.
  void subtract(const EntitySet& other) {
    for (size_t w = 0; w < words_.size(); ++w) words_[w] &= ~other.words_[w];
  }
  int count() const {
    int c = 0;
    for (uint64_t w : words_) c += std::popcount(w);
    return c;
  }
  bool empty() const {
    for (uint64_t w : words_) {
      if (w) return false;
    }
    return true;
  }
  /// Smallest member >= from, or -1.
  int next(int from = 0) const;

 private:
  int n_ = 0;
  std::vector<uint64_t> words_;
};

/// Immutable entity table with bitset indexes. Shared read-only across environments.
class KnowledgeBase {
 public:
  /// Generates `opts.num_entities` entities from `opts.seed`.
  KnowledgeBase(const Ontology& ontology, const KbOptions& opts);
  /// An explicit table (tests, hand-written databases): one row per entity holding the display
  /// values of the database informable slots in informable order; names are "entity 0", ...
  /// InvalidArgument naming the row and slot on a value the ontology does not know.
  static KnowledgeBase from_rows(const Ontology& ontology, const std::vector<std::vector<std::string>>& rows);

  int size() const { return n_; }
  int num_informable() const { return num_informable_; }
  /// Value id of informable slot `i` (informable index) of entity `e`; kNoValue for a slot that
  /// is not a database column.
  int value(int e, int i) const { return values_[static_cast<size_t>(e * num_informable_ + i)]; }
  const std::string& name(int e) const { return names_[static_cast<size_t>(e)]; }
  /// Display text of any slot of an entity (name, informable value or generated attribute).
  std::string display(const Ontology& ontology, int e, int slot_id) const;

  /// Entities matching `constraints` (one value per informable index; a value >= 0 constrains,
  /// kDontcare / kNoValue do not; slots that are not database columns are ignored). `out` must
  /// have been sized to size().
  void match(std::span<const int> constraints, EntitySet& out) const;
  /// Number of entities matching `constraints`.
  int count(std::span<const int> constraints) const;
  /// Bit i set for each informable index i in `candidate_mask` on which the entities of `set`
  /// take at least two different values (asking slot i would narrow the set down).
  uint32_t discriminating_slots(const EntitySet& set, uint32_t candidate_mask) const;
  /// The bitset of entities whose informable slot i has value v.
  const EntitySet& value_set(int i, int v) const { return value_sets_[static_cast<size_t>(offsets_[static_cast<size_t>(i)] + v)]; }

 private:
  KnowledgeBase() = default;
  void build_index(const Ontology& ontology);

  int n_ = 0;
  int num_informable_ = 0;
  uint32_t kb_mask_ = 0;                     // bit i: informable index i is a database column
  std::vector<int> values_;                  // n_ x num_informable_
  std::vector<std::string> names_;           // n_
  std::vector<std::string> attributes_;      // n_ x num_slots (non-informable slots only)
  int num_slots_ = 0;
  std::vector<int> offsets_;                 // first value_sets_ index of each informable slot
  std::vector<EntitySet> value_sets_;
  EntitySet all_;
};

}  // namespace metadial::dialog
