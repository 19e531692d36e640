// Search spaces: named float / int / categorical parameters, and their encoding to and from
// the unit cube [0,1]^d, one dimension per parameter. Every sampler works in the unit cube.
//
//   Float  low..high, linear or log:   u = (x - low) / (high - low)  or on log(x)
//   Int    low..high, step, log:       u is the centre of the value's cell, decode rounds
//   Categorical k choices:             u in [i/k, (i+1)/k) decodes to choice i; encodes to (i+0.5)/k
//
// Any finite bounds work, up to the whole range of double and of int64_t: int arithmetic is exact
// (in uint64_t), and a float range wider than the largest double is scaled down first. An int
// grid of more than 2^53 values is finer than a double resolves, so there a value's encoding can
// be shared with its near neighbours (decode gives one of them; the ends and 0 are exact).
//
// `snap(u)` = encode(decode(u)) maps any point to the canonical point of the configuration it
// decodes to, so a model over the cube (GP-BO) sees integer and categorical dimensions as
// piecewise constant (Garrido-Merchan & Hernandez-Lobato 2020).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace metadial::space {

/// A parameter value: float, int or categorical choice.
using Value = std::variant<double, int64_t, std::string>;

/// A configuration: parameter name -> value.
using Config = std::map<std::string, Value>;

/// Real-valued parameter in [low, high], optionally log-scaled (then low > 0).
struct FloatParam {
  double low = 0.0;
  double high = 1.0;
  bool log = false;
};

/// Integer parameter in [low, high] on the grid low, low+step, ...; optionally log-scaled
/// (then low >= 1 and step must be 1).
struct IntParam {
  int64_t low = 0;
  int64_t high = 1;
  int64_t step = 1;
  bool log = false;
};

/// One of a finite list of distinct strings.
struct CategoricalParam {
  std::vector<std::string> choices;
};

using Distribution = std::variant<FloatParam, IntParam, CategoricalParam>;

/// A named parameter of a search space.
struct Parameter {
  std::string name;
  Distribution dist;
};

/// Checks a distribution; throws InvalidArgument naming the parameter (low >= high, log with
/// low <= 0, step <= 0, empty or duplicate choices, non-finite bounds).
void validate(const std::string& name, const Distribution& dist);

/// Ordered collection of parameters. Copyable value type.
class SearchSpace {
 public:
  SearchSpace() = default;

  /// Adds a parameter; throws InvalidArgument on a duplicate name or bad bounds.
  SearchSpace& add(std::string name, Distribution dist);
  SearchSpace& add_float(std::string name, double low, double high, bool log = false) {
    return add(std::move(name), FloatParam{low, high, log});
  }
  SearchSpace& add_int(std::string name, int64_t low, int64_t high, int64_t step = 1, bool log = false) {
    return add(std::move(name), IntParam{low, high, step, log});
  }
  SearchSpace& add_categorical(std::string name, std::vector<std::string> choices) {
    return add(std::move(name), CategoricalParam{std::move(choices)});
  }

  /// Number of parameters = dimension of the unit cube.
  size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }
  const std::vector<Parameter>& params() const { return params_; }
  const Parameter& param(size_t i) const { return params_.at(i); }
  /// Index of a parameter by name; throws InvalidArgument if absent.
  size_t index_of(const std::string& name) const;

  /// Unit-cube point of a configuration; throws InvalidArgument on a missing parameter,
  /// a value of the wrong type or outside the bounds.
  std::vector<double> encode(const Config& config) const;
  /// Configuration of a unit-cube point (coordinates are clamped into [0,1]).
  Config decode(std::span<const double> u) const;
  /// encode(decode(u)): the canonical point of u's configuration.
  std::vector<double> snap(std::span<const double> u) const;
  /// True if dimension i is discrete (int or categorical).
  bool is_discrete(size_t i) const;
  /// Number of distinct values of dimension i (0 for a float parameter); INT64_MAX for an int grid
  /// of more values than int64_t holds (up to 2^64).
  int64_t cardinality(size_t i) const;

  /// JSON form, stable across versions (stored with a study to check a resume matches).
  nlohmann::json to_json() const;
  static SearchSpace from_json(const nlohmann::json& j);

  bool operator==(const SearchSpace& other) const;

 private:
  std::vector<Parameter> params_;
};

/// "0.0123", "42" or "rbf": a value as a user would write it.
std::string to_string(const Value& v);
/// "{lr: 0.01, layers: 3}".
std::string to_string(const Config& c);
nlohmann::json to_json(const Config& c);
Config config_from_json(const nlohmann::json& j);

}  // namespace metadial::space
