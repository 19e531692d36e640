#include "metadial/space/search_space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"

namespace metadial::space {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

double clamp01(double u) { return std::isfinite(u) ? std::clamp(u, 0.0, 1.0) : 0.0; }

// Float parameters, linear: u = (x - low) / (high - low). A range wider than the largest double
// ([-1e308, 1e308]) overflows high - low to inf; there both sides are halved first (exact but for
// subnormals), so that every point of the cube stays a finite value inside the bounds.
double float_encode(const FloatParam& p, double x) {
  if (p.log) return (std::log(x) - std::log(p.low)) / (std::log(p.high) - std::log(p.low));
  const double range = p.high - p.low;
  if (std::isfinite(range)) return (x - p.low) / range;
  return (x / 2 - p.low / 2) / (p.high / 2 - p.low / 2);
}

double float_decode(const FloatParam& p, double u) {
  double v = 0;
  if (p.log) {
    v = std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)));
  } else if (const double range = p.high - p.low; std::isfinite(range)) {
    v = p.low + u * range;
  } else {
    v = 2 * (p.low / 2 + u * (p.high / 2 - p.low / 2));
  }
  return std::clamp(v, p.low, p.high);
}

// Int parameters. Every difference of two values in [low, high] is taken in uint64_t, where it is
// exact (high - low < 2^64) even when it overflows int64_t (a range of the whole int64_t).

// (v - low) / step: the grid index of v, exact.
uint64_t int_index(const IntParam& p, int64_t v) {
  return (static_cast<uint64_t>(v) - static_cast<uint64_t>(p.low)) / static_cast<uint64_t>(p.step);
}

// Index of the last grid point: (high - low) / step, exact; the grid has int_last(p) + 1 points
// (up to 2^64, which only a double holds).
uint64_t int_last(const IntParam& p) { return int_index(p, p.high); }

double int_count(const IntParam& p) { return static_cast<double>(int_last(p)) + 1.0; }

// low + k * step for k <= int_last(p): in [low, high], computed modulo 2^64 (exact).
int64_t int_at(const IntParam& p, uint64_t k) {
  return static_cast<int64_t>(static_cast<uint64_t>(p.low) + k * static_cast<uint64_t>(p.step));
}

// The int64_t nearest to a finite or infinite double, saturated at the int64_t range.
int64_t round_saturated(double v) {
  constexpr double kTwo63 = 9223372036854775808.0;  // 2^63: the first double above INT64_MAX
  if (!(v < kTwo63)) return std::numeric_limits<int64_t>::max();
  if (!(v > -kTwo63)) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::llround(v));
}

// Unit-cube coordinate of an int value (linear: centre of its cell; log: position of log(v)
// within [log(low - 0.5), log(high + 0.5)] so every value owns an interval). A grid of more than
// 2^53 points is finer than a double resolves near 1: there neighbouring values can share a
// coordinate, and decode gives one of them.
double int_encode(const IntParam& p, int64_t v) {
  if (p.log) {
    const double lo = std::log(static_cast<double>(p.low) - 0.5), hi = std::log(static_cast<double>(p.high) + 0.5);
    return (std::log(static_cast<double>(v)) - lo) / (hi - lo);
  }
  return (static_cast<double>(int_index(p, v)) + 0.5) / int_count(p);
}

int64_t int_decode(const IntParam& p, double u) {
  if (p.log) {
    // The ends exactly: exp(log(high + 0.5)) is off by more than 0.5 once high is above ~1e14.
    if (u <= 0) return p.low;
    if (u >= 1) return p.high;
    const double lo = std::log(static_cast<double>(p.low) - 0.5), hi = std::log(static_cast<double>(p.high) + 0.5);
    const double v = std::exp(lo + u * (hi - lo));
    return std::clamp(round_saturated(v), p.low, p.high);
  }
  const uint64_t last = int_last(p);
  const double k = std::floor(u * int_count(p));  // in [0, 2^64]
  // static_cast<double>(last) rounds to at most 2^64, so below it k converts exactly.
  return int_at(p, k >= static_cast<double>(last) ? last : static_cast<uint64_t>(k));
}

}  // namespace

void validate(const std::string& name, const Distribution& dist) {
  MD_CHECK(!name.empty(), "a parameter name must not be empty");
  std::visit(Overloaded{
                 [&](const FloatParam& p) {
                   MD_CHECK(std::isfinite(p.low) && std::isfinite(p.high), "parameter '", name,
                            "': bounds must be finite numbers (got low ", p.low, ", high ", p.high, ")");
                   MD_CHECK(p.low < p.high, "parameter '", name, "': low ", p.low, " must be below high ", p.high);
                   MD_CHECK(!p.log || p.low > 0, "parameter '", name, "': log scale needs low > 0 (got low ", p.low,
                            ")");
                 },
                 [&](const IntParam& p) {
                   MD_CHECK(p.low < p.high, "parameter '", name, "': low ", p.low, " must be below high ", p.high);
                   MD_CHECK(p.step >= 1, "parameter '", name, "': step must be >= 1 (got ", p.step, ")");
                   MD_CHECK(!p.log || p.low >= 1, "parameter '", name, "': log scale needs low >= 1 (got low ",
                            p.low, ")");
                   MD_CHECK(!p.log || p.step == 1, "parameter '", name, "': log scale needs step = 1 (got ",
                            p.step, ")");
                 },
                 [&](const CategoricalParam& p) {
                   MD_CHECK(!p.choices.empty(), "parameter '", name, "': choices must not be empty");
                   std::set<std::string> seen;
                   for (const auto& c : p.choices) {
                     MD_CHECK(seen.insert(c).second, "parameter '", name, "': choice '", c, "' appears twice");
                   }
                 },
             },
             dist);
}

SearchSpace& SearchSpace::add(std::string name, Distribution dist) {
  validate(name, dist);
  for (const auto& p : params_) MD_CHECK(p.name != name, "parameter '", name, "' is defined twice");
  params_.push_back(Parameter{std::move(name), std::move(dist)});
  return *this;
}

size_t SearchSpace::index_of(const std::string& name) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].name == name) return i;
  }
  throw InvalidArgument("unknown parameter '" + name + "'");
}

std::vector<double> SearchSpace::encode(const Config& config) const {
  std::vector<double> u(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& [name, dist] = params_[i];
    auto it = config.find(name);
    MD_CHECK(it != config.end(), "configuration lacks parameter '", name, "'");
    const Value& v = it->second;
    u[i] = std::visit(
        Overloaded{
            [&](const FloatParam& p) {
              double x = 0;
              if (const auto* d = std::get_if<double>(&v)) {
                x = *d;
              } else if (const auto* n = std::get_if<int64_t>(&v)) {
                x = static_cast<double>(*n);
              } else {
                throw InvalidArgument("parameter '" + name + "': expected a number, got '" + to_string(v) + "'");
              }
              MD_CHECK(x >= p.low && x <= p.high, "parameter '", name, "': value ", x, " outside [", p.low, ", ",
                       p.high, "]");
              return float_encode(p, x);
            },
            [&](const IntParam& p) {
              int64_t x = 0;
              if (const auto* n = std::get_if<int64_t>(&v)) {
                x = *n;
              } else if (const auto* d = std::get_if<double>(&v);
                         d && std::floor(*d) == *d && *d >= -9223372036854775808.0 && *d < 9223372036854775808.0) {
                x = static_cast<int64_t>(*d);  // an integral double within int64_t (else: not an integer here)
              } else {
                throw InvalidArgument("parameter '" + name + "': expected an integer, got '" + to_string(v) + "'");
              }
              MD_CHECK(x >= p.low && x <= p.high, "parameter '", name, "': value ", x, " outside [", p.low, ", ",
                       p.high, "]");
              MD_CHECK(int_at(p, int_index(p, x)) == x, "parameter '", name, "': value ", x, " is not on the grid ",
                       p.low, " + k * ", p.step);
              return int_encode(p, x);
            },
            [&](const CategoricalParam& p) {
              const auto* s = std::get_if<std::string>(&v);
              MD_CHECK(s != nullptr, "parameter '", name, "': expected one of its choices, got ", to_string(v));
              auto pos = std::find(p.choices.begin(), p.choices.end(), *s);
              MD_CHECK(pos != p.choices.end(), "parameter '", name, "': '", *s, "' is not one of its choices");
              const auto k = static_cast<double>(p.choices.size());
              return (static_cast<double>(pos - p.choices.begin()) + 0.5) / k;
            },
        },
        dist);
  }
  return u;
}

Config SearchSpace::decode(std::span<const double> u) const {
  MD_CHECK(u.size() == params_.size(), "point has ", u.size(), " coordinates, the space has ", params_.size(),
           " parameters");
  Config config;
  for (size_t i = 0; i < params_.size(); ++i) {
    const double x = clamp01(u[i]);
    const auto& [name, dist] = params_[i];
    config[name] = std::visit(Overloaded{
                                  [&](const FloatParam& p) -> Value { return float_decode(p, x); },
                                  [&](const IntParam& p) -> Value { return int_decode(p, x); },
                                  [&](const CategoricalParam& p) -> Value {
                                    const auto k = static_cast<int64_t>(p.choices.size());
                                    const auto idx = std::min(
                                        k - 1, static_cast<int64_t>(std::floor(x * static_cast<double>(k))));
                                    return p.choices[static_cast<size_t>(idx)];
                                  },
                              },
                              dist);
  }
  return config;
}

std::vector<double> SearchSpace::snap(std::span<const double> u) const {
  std::vector<double> out(u.begin(), u.end());
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!is_discrete(i)) {
      out[i] = clamp01(out[i]);
      continue;
    }
    const double x = clamp01(u[i]);
    if (const auto* p = std::get_if<IntParam>(&params_[i].dist)) {
      out[i] = int_encode(*p, int_decode(*p, x));
    } else {
      const auto& c = std::get<CategoricalParam>(params_[i].dist);
      const auto k = static_cast<int64_t>(c.choices.size());
      const auto idx = std::min(k - 1, static_cast<int64_t>(std::floor(x * static_cast<double>(k))));
      out[i] = (static_cast<double>(idx) + 0.5) / static_cast<double>(k);
    }
  }
  return out;
}

bool SearchSpace::is_discrete(size_t i) const { return !std::holds_alternative<FloatParam>(params_.at(i).dist); }

int64_t SearchSpace::cardinality(size_t i) const {
  const auto& d = params_.at(i).dist;
  if (const auto* p = std::get_if<IntParam>(&d)) {
    const uint64_t last = int_last(*p);  // the grid has last + 1 points: saturate at INT64_MAX
    return last >= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                              : static_cast<int64_t>(last) + 1;
  }
  if (const auto* c = std::get_if<CategoricalParam>(&d)) return static_cast<int64_t>(c->choices.size());
  return 0;
}

nlohmann::json SearchSpace::to_json() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [name, dist] : params_) {
    nlohmann::json j;
    j["name"] = name;
    std::visit(Overloaded{
                   [&](const FloatParam& p) {
                     j["type"] = "float";
                     j["low"] = p.low;
                     j["high"] = p.high;
                     j["log"] = p.log;
                   },
                   [&](const IntParam& p) {
                     j["type"] = "int";
                     j["low"] = p.low;
                     j["high"] = p.high;
                     j["step"] = p.step;
                     j["log"] = p.log;
                   },
                   [&](const CategoricalParam& p) {
                     j["type"] = "categorical";
                     j["choices"] = p.choices;
                   },
               },
               dist);
    arr.push_back(std::move(j));
  }
  return arr;
}

SearchSpace SearchSpace::from_json(const nlohmann::json& j) {
  SearchSpace s;
  try {
    for (const auto& p : j) {
      const std::string type = p.at("type").get<std::string>();
      const std::string name = p.at("name").get<std::string>();
      if (type == "float") {
        s.add(name, FloatParam{p.at("low").get<double>(), p.at("high").get<double>(), p.at("log").get<bool>()});
      } else if (type == "int") {
        s.add(name, IntParam{p.at("low").get<int64_t>(), p.at("high").get<int64_t>(), p.at("step").get<int64_t>(),
                             p.at("log").get<bool>()});
      } else if (type == "categorical") {
        s.add(name, CategoricalParam{p.at("choices").get<std::vector<std::string>>()});
      } else {
        throw InvalidArgument("unknown parameter type '" + type + "'");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("malformed search space JSON: ") + e.what());
  }
  return s;
}

bool SearchSpace::operator==(const SearchSpace& other) const { return to_json() == other.to_json(); }

std::string to_string(const Value& v) {
  return std::visit(Overloaded{
                        [](double d) {
                          std::ostringstream out;
                          out.precision(6);
                          out << d;
                          return out.str();
                        },
                        [](int64_t n) { return std::to_string(n); },
                        [](const std::string& s) { return s; },
                    },
                    v);
}

std::string to_string(const Config& c) {
  std::string out = "{";
  for (const auto& [k, v] : c) out += (out.size() > 1 ? ", " : "") + k + ": " + to_string(v);
  return out + "}";
}

nlohmann::json to_json(const Config& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : c) {
    std::visit([&](const auto& x) { j[k] = x; }, v);
  }
  return j;
}

Config config_from_json(const nlohmann::json& j) {
  Config c;
  MD_CHECK(j.is_object(), "a configuration must be a JSON object, got ", j.dump());
  for (const auto& [k, v] : j.items()) {
    if (v.is_number_integer()) {
      c[k] = v.get<int64_t>();
    } else if (v.is_number()) {
      c[k] = v.get<double>();
    } else if (v.is_string()) {
      c[k] = v.get<std::string>();
    } else {
      throw InvalidArgument("configuration value of '" + k + "' must be a number or string, got " + v.dump());
    }
  }
  return c;
}

}  // namespace metadial::space
