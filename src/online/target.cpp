#include "metadial/online/target.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/online/run.h"

namespace metadial::online {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::vector<std::string> keys(const Tuple& t) {
  std::vector<std::string> k;
  for (const auto& [name, v] : t) k.push_back(name);
  return k;
}

}  // namespace

std::string to_string(const Tuple& t) {
  std::ostringstream out;
  out.precision(6);
  out << "{";
  bool first = true;
  for (const auto& [name, v] : t) {
    out << (first ? "" : ", ") << name << ": " << v;
    first = false;
  }
  out << "}";
  return out.str();
}

ChoiceSpace& ChoiceSpace::add(std::string name, std::vector<double> values) {
  MD_CHECK(!name.empty(), "hyperparameter with an empty name");
  MD_CHECK(!values.empty(), "hyperparameter '", name, "': empty choice list (give at least one value)");
  for (const auto& c : choices_) MD_CHECK(c.name != name, "hyperparameter '", name, "' given twice");
  for (size_t i = 0; i < values.size(); ++i) {
    MD_CHECK(std::isfinite(values[i]), "hyperparameter '", name, "': choice ", i, " is not a finite number");
    for (size_t j = 0; j < i; ++j) {
      MD_CHECK(values[j] != values[i], "hyperparameter '", name, "': choice ", values[i], " listed twice");
    }
  }
  choices_.push_back({std::move(name), std::move(values)});
  return *this;
}

int64_t ChoiceSpace::total_choices() const {
  int64_t n = 0;
  for (const auto& c : choices_) n += static_cast<int64_t>(c.values.size());
  return n;
}

Tuple ChoiceSpace::tuple(std::span<const int64_t> indices) const {
  MD_CHECK(indices.size() == choices_.size(), "a tuple needs ", choices_.size(), " choice indices, got ",
           indices.size());
  Tuple t;
  for (size_t i = 0; i < choices_.size(); ++i) {
    const auto k = static_cast<int64_t>(choices_[i].values.size());
    MD_CHECK(indices[i] >= 0 && indices[i] < k, "hyperparameter '", choices_[i].name, "': choice index ",
             indices[i], " not in [0, ", k, ")");
    t[choices_[i].name] = choices_[i].values[static_cast<size_t>(indices[i])];
  }
  return t;
}

std::vector<int64_t> ChoiceSpace::nearest(const Tuple& t) const {
  std::vector<int64_t> idx(choices_.size(), 0);
  for (size_t i = 0; i < choices_.size(); ++i) {
    auto it = t.find(choices_[i].name);
    if (it == t.end()) continue;
    double best = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < choices_[i].values.size(); ++j) {
      const double a = it->second;
      const double b = choices_[i].values[j];
      const double d = (a > 0 && b > 0) ? std::abs(std::log(a / b)) : std::abs(a - b) * 1e6;
      if (d < best) {
        best = d;
        idx[i] = static_cast<int64_t>(j);
      }
    }
  }
  return idx;
}

space::SearchSpace ChoiceSpace::search_space() const {
  space::SearchSpace s;
  for (const auto& c : choices_) {
    // A single choice would make an empty interval: such a hyperparameter is fixed, not searched.
    if (c.values.size() >= 2) s.add_int(c.name, 0, static_cast<int64_t>(c.values.size()) - 1);
  }
  return s;
}

Tuple ChoiceSpace::from_config(const space::Config& c) const {
  Tuple t;
  for (const auto& h : choices_) {
    auto it = c.find(h.name);
    if (it == c.end()) {
      MD_CHECK(h.values.size() == 1, "configuration lacks hyperparameter '", h.name, "'");
      t[h.name] = h.values[0];
      continue;
    }
    const auto* i = std::get_if<int64_t>(&it->second);
    MD_CHECK(i && *i >= 0 && *i < static_cast<int64_t>(h.values.size()), "configuration value of '", h.name,
             "' is not a choice index");
    t[h.name] = h.values[static_cast<size_t>(*i)];
  }
  return t;
}

void ChoiceSpace::check_accepted(const std::vector<std::string>& accepted, const std::string& target_name) const {
  for (const auto& c : choices_) {
    MD_CHECK(std::find(accepted.begin(), accepted.end(), c.name) != accepted.end(), "hyperparameter '", c.name,
             "' is not accepted by the ", target_name, " target (it accepts: ", join(accepted), ")");
  }
}

std::vector<double> TargetStats::features() const { return {output_mean, output_std, entropy, max_prob, recent_loss}; }

std::vector<std::string> Target::accepted() const { return keys(defaults()); }

Tuple resolve(const Tuple& t, const Tuple& defaults, const std::string& target_name) {
  Tuple out = defaults;
  for (const auto& [name, v] : t) {
    auto it = out.find(name);
    MD_CHECK(it != out.end(), "hyperparameter '", name, "' is not accepted by the ", target_name,
             " target (it accepts: ", join(keys(defaults)), ")");
    it->second = v;
  }
  return out;
}

SyntheticTarget::SyntheticTarget(SyntheticOptions options) : options_(options) {
  MD_CHECK(options_.best_learning_rate > 0 && options_.width > 0 && options_.noise >= 0,
           "synthetic target: best_learning_rate and width must be > 0, noise >= 0");
}

void SyntheticTarget::reset(uint64_t seed) {
  seed_ = seed;
  steps_ = 0;
  calls_ = 0;
  score_ = 0.0;
  last_loss_ = 1.0;
}

double SyntheticTarget::gain_per_step(double learning_rate) const {
  const double z = std::log10(learning_rate / options_.best_learning_rate) / options_.width;
  return options_.gain * std::exp(-z * z);
}

void SyntheticTarget::train(const Tuple& hp, int64_t steps) {
  MD_CHECK(steps >= 0, "synthetic target: negative step count ", steps);
  const Tuple r = resolve(hp, defaults(), name());
  const double lr = r.at("learning_rate");
  MD_CHECK(lr > 0, "synthetic target: learning_rate ", lr, " must be > 0");
  double gain = gain_per_step(lr) * static_cast<double>(steps);
  if (options_.noise > 0) {
    Rng rng(derive_seed(seed_, {0x5E, static_cast<uint64_t>(calls_)}));
    gain += options_.noise * standard_normal(rng);
  }
  ++calls_;
  score_ += gain;
  steps_ += steps;
  last_loss_ = 1.0 - score_;
}

TargetStats SyntheticTarget::stats() const {
  TargetStats s;
  s.recent_loss = last_loss_;
  s.max_prob = std::clamp(score_, 0.0, 1.0);
  return s;
}

}  // namespace metadial::online

namespace metadial::online {

void RunOptions::validate() const {
  MD_CHECK(total_steps >= 1, "training length (steps) must be >= 1, got ", total_steps);
  MD_CHECK(interval >= 1, "interval K must be >= 1, got ", interval);
  MD_CHECK(interval <= total_steps, "interval K = ", interval, " is larger than the training length of ",
           total_steps, " steps (choose K <= steps)");
}

void write_schedule_csv(const RunResult& r, std::ostream& out) {
  std::vector<std::string> names;
  if (!r.schedule.empty()) names = keys(r.schedule.front().tuple);
  out << "step";
  for (const auto& n : names) out << "," << n;
  out << ",validation,reward\n";
  out.precision(8);
  for (const auto& e : r.schedule) {
    out << e.step;
    for (const auto& n : names) {
      auto it = e.tuple.find(n);
      out << ",";
      if (it != e.tuple.end()) out << it->second;
    }
    out << "," << e.validation << "," << e.reward << "\n";
  }
}

}  // namespace metadial::online
