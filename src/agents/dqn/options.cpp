#include "metadial/agents/dqn/options.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <variant>

#include <nlohmann/json.hpp>

#include "metadial/core/config.h"
#include "metadial/core/error.h"

namespace metadial::agents::dqn {
namespace {

using Field = std::variant<int DqnOptions::*, double DqnOptions::*, bool DqnOptions::*>;

struct Descriptor {
  const char* name;
  Field field;
};

constexpr std::array<Descriptor, 16> kFields = {{
    {"h1", &DqnOptions::h1},
    {"h2", &DqnOptions::h2},
    {"epsilon", &DqnOptions::epsilon},
    {"epsilon_end", &DqnOptions::epsilon_end},
    {"epsilon_decay_dialogues", &DqnOptions::epsilon_decay_dialogues},
    {"gamma", &DqnOptions::gamma},
    {"lr", &DqnOptions::lr},
    {"batch_size", &DqnOptions::batch_size},
    {"replay_capacity", &DqnOptions::replay_capacity},
    {"tau", &DqnOptions::tau},
    {"train_frequency", &DqnOptions::train_frequency},
    {"train_iters", &DqnOptions::train_iters},
    {"learn_start", &DqnOptions::learn_start},
    {"reward_scale", &DqnOptions::reward_scale},
    {"double_q", &DqnOptions::double_q},
    {"huber", &DqnOptions::huber},
}};

void check(const DqnOptions& o, std::string_view only);

const Descriptor& find(std::string_view name) {
  for (const auto& d : kFields) {
    if (name == d.name) return d;
  }
  throw InvalidArgument(detail::concat("unknown DQN hyperparameter '", name, "' (known: ", DqnOptions::names_joined(),
                                       ")"));
}

}  // namespace

DqnOptions& DqnOptions::set(std::string_view name, double value) {
  const Descriptor& d = find(name);
  MD_CHECK(std::isfinite(value), "DQN hyperparameter '", name, "': value ", value, " is not finite");
  DqnOptions probe = *this;
  if (const auto* pi = std::get_if<int DqnOptions::*>(&d.field)) {
    MD_CHECK(value == std::floor(value) && std::fabs(value) < 2e9, "DQN hyperparameter '", name,
             "' must be an integer (got ", value, ")");
    probe.*(*pi) = static_cast<int>(value);
  } else if (const auto* pd = std::get_if<double DqnOptions::*>(&d.field)) {
    probe.*(*pd) = value;
  } else {
    MD_CHECK(value == 0.0 || value == 1.0, "DQN hyperparameter '", name, "' is a flag: 0 or 1 (got ", value, ")");
    probe.*std::get<bool DqnOptions::*>(d.field) = value != 0.0;
  }
  check(probe, d.name);
  *this = probe;
  return *this;
}

DqnOptions& DqnOptions::set(std::string_view name, std::string_view text) {
  find(name);
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  double v = 0.0;
  if (t == "true") {
    v = 1.0;
  } else if (t == "false") {
    v = 0.0;
  } else {
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    MD_CHECK(ec == std::errc() && ptr == t.data() + t.size() && !t.empty(), "DQN hyperparameter '", name,
             "': '", text, "' is not a number");
  }
  return set(name, v);
}

DqnOptions& DqnOptions::set(std::string_view name, const space::Value& value) {
  if (const auto* d = std::get_if<double>(&value)) return set(name, *d);
  if (const auto* i = std::get_if<int64_t>(&value)) return set(name, static_cast<double>(*i));
  return set(name, std::string_view(std::get<std::string>(value)));
}

double DqnOptions::get(std::string_view name) const {
  const Descriptor& d = find(name);
  if (const auto* pi = std::get_if<int DqnOptions::*>(&d.field)) return this->*(*pi);
  if (const auto* pd = std::get_if<double DqnOptions::*>(&d.field)) return this->*(*pd);
  return (this->*std::get<bool DqnOptions::*>(d.field)) ? 1.0 : 0.0;
}

bool DqnOptions::has(std::string_view name) {
  return std::any_of(kFields.begin(), kFields.end(), [&](const Descriptor& d) { return name == d.name; });
}

bool DqnOptions::is_integer(std::string_view name) {
  return !std::holds_alternative<double DqnOptions::*>(find(name).field);
}

const std::vector<std::string>& DqnOptions::names() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v;
    for (const auto& d : kFields) v.emplace_back(d.name);
    return v;
  }();
  return all;
}

std::string DqnOptions::names_joined() {
  std::string s;
  for (const auto& n : names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

namespace {

// Range checks; `only` non-empty: just that field (no cross-field check), as set() needs.
void check(const DqnOptions& o, std::string_view only) {
  auto want = [&](const char* n) { return only.empty() || only == n; };
  if (want("h1")) MD_CHECK(o.h1 >= 1 && o.h1 <= 100000, "DQN hyperparameter 'h1' = ", o.h1, " must be in [1, 100000]");
  if (want("h2")) MD_CHECK(o.h2 >= 1 && o.h2 <= 100000, "DQN hyperparameter 'h2' = ", o.h2, " must be in [1, 100000]");
  if (want("epsilon")) {
    MD_CHECK(o.epsilon >= 0.0 && o.epsilon <= 1.0, "DQN hyperparameter 'epsilon' = ", o.epsilon, " must be in [0, 1]");
  }
  if (want("epsilon_end")) {
    MD_CHECK(o.epsilon_end >= 0.0 && o.epsilon_end <= 1.0, "DQN hyperparameter 'epsilon_end' = ", o.epsilon_end,
             " must be in [0, 1]");
  }
  if (want("epsilon_decay_dialogues")) {
    MD_CHECK(o.epsilon_decay_dialogues >= 0, "DQN hyperparameter 'epsilon_decay_dialogues' = ",
             o.epsilon_decay_dialogues, " must be >= 0 (0 = the whole run)");
  }
  if (want("gamma")) MD_CHECK(o.gamma >= 0.0 && o.gamma <= 1.0, "DQN hyperparameter 'gamma' = ", o.gamma, " must be in [0, 1]");
  if (want("lr")) MD_CHECK(o.lr > 0.0 && o.lr < 10.0, "DQN hyperparameter 'lr' = ", o.lr, " must be in (0, 10)");
  if (want("batch_size")) {
    MD_CHECK(o.batch_size >= 1 && o.batch_size <= 1000000, "DQN hyperparameter 'batch_size' = ", o.batch_size,
             " must be in [1, 1000000]");
  }
  if (want("replay_capacity")) {
    MD_CHECK(o.replay_capacity >= 1 && o.replay_capacity <= 100000000, "DQN hyperparameter 'replay_capacity' = ",
             o.replay_capacity, " must be in [1, 100000000]");
  }
  if (want("tau")) MD_CHECK(o.tau > 0.0 && o.tau <= 1.0, "DQN hyperparameter 'tau' = ", o.tau, " must be in (0, 1]");
  if (want("train_frequency")) {
    MD_CHECK(o.train_frequency >= 1, "DQN hyperparameter 'train_frequency' = ", o.train_frequency, " must be >= 1");
  }
  if (want("train_iters")) {
    MD_CHECK(o.train_iters >= 1 && o.train_iters <= 10000, "DQN hyperparameter 'train_iters' = ", o.train_iters,
             " must be in [1, 10000]");
  }
  if (want("learn_start")) MD_CHECK(o.learn_start >= 0, "DQN hyperparameter 'learn_start' = ", o.learn_start, " must be >= 0");
  if (want("reward_scale")) {
    MD_CHECK(o.reward_scale > 0.0, "DQN hyperparameter 'reward_scale' = ", o.reward_scale, " must be > 0");
  }
  if (only.empty()) {
    MD_CHECK(o.replay_capacity >= o.batch_size, "DQN hyperparameters: replay_capacity (", o.replay_capacity,
             ") must be >= batch_size (", o.batch_size, ")");
  }
}

}  // namespace

void DqnOptions::validate() const { check(*this, {}); }

double DqnOptions::epsilon_at(int k, int total) const {
  const int span = epsilon_decay_dialogues > 0 ? epsilon_decay_dialogues : total;
  if (span <= 0) return epsilon_end;
  const double frac = std::clamp(static_cast<double>(k) / static_cast<double>(span), 0.0, 1.0);
  return epsilon + (epsilon_end - epsilon) * frac;
}

nlohmann::json DqnOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& d : kFields) {
    if (const auto* pi = std::get_if<int DqnOptions::*>(&d.field)) {
      j[d.name] = this->*(*pi);
    } else if (const auto* pd = std::get_if<double DqnOptions::*>(&d.field)) {
      j[d.name] = this->*(*pd);
    } else {
      j[d.name] = this->*std::get<bool DqnOptions::*>(d.field);
    }
  }
  return j;
}

DqnOptions DqnOptions::from_table(const config::Table& t) {
  t.expect_keys(names());
  DqnOptions o;
  for (const auto& d : kFields) {
    if (!t.contains(d.name)) continue;
    double x = 0.0;
    if (std::holds_alternative<int DqnOptions::*>(d.field)) {
      const int64_t v = *t.integer(d.name);
      if (v <= -2000000000 || v >= 2000000000) t.invalid(d.name, detail::concat("is too large (got ", v, ")"));
      x = static_cast<double>(v);
    } else if (std::holds_alternative<double DqnOptions::*>(d.field)) {
      x = *t.number(d.name);
    } else if (t.find(d.name)->is_number_integer()) {
      x = static_cast<double>(*t.integer(d.name));  // a flag written 0 / 1; set() rejects other integers
    } else {
      x = *t.boolean(d.name) ? 1.0 : 0.0;
    }
    t.checked(d.name, [&] { o.set(d.name, x); });  // range: "DQN hyperparameter 'h1' = 0 must be in [1, 100000]"
  }
  return o;
}

DqnOptions DqnOptions::from_json(const nlohmann::json& j) {
  return config::rethrow_as<InvalidArgument>(
      [&] { return from_table(config::Table::from_json(j, "DQN hyperparameters", "[dqn]")); });
}

}  // namespace metadial::agents::dqn
