#include "metadial/objective/test_functions.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <set>
#include <utility>

#include "metadial/core/config.h"
#include "metadial/core/error.h"

namespace metadial::objective {
namespace {

constexpr double kPi = std::numbers::pi;

// ---- Branin ------------------------------------------------------------------------------

constexpr double kBraninB = 5.1 / (4.0 * kPi * kPi);
constexpr double kBraninC = 5.0 / kPi;
constexpr double kBraninT = 1.0 / (8.0 * kPi);

double branin_native(double x1, double x2, double b, double c, double t) {
  const double a = x2 - b * x1 * x1 + c * x1 - 6.0;
  return a * a + 10.0 * (1.0 - t) * std::cos(x1) + 10.0;
}

double branin_x1(double u) { return -5.0 + 15.0 * u; }
double branin_x2(double u) { return 15.0 * u; }

// 5 / (4 pi): at a minimizer the square vanishes and cos(x1) = -1, leaving 10 t.
const double kBraninMin = 10.0 * kBraninT;

std::vector<std::vector<double>> branin_minimizers() {
  return {{(-kPi + 5.0) / 15.0, 12.275 / 15.0},
          {(kPi + 5.0) / 15.0, 2.275 / 15.0},
          {(3.0 * kPi + 5.0) / 15.0, 2.475 / 15.0}};
}

// ---- Currin exponential -----------------------------------------------------------------

// The usual (maximized) Currin exponential; x2 <= 0 gives the limit factor 1.
double currin_native(double x1, double x2) {
  const double factor = x2 <= 0.0 ? 1.0 : 1.0 - std::exp(-0.5 / x2);
  const double num = ((2300.0 * x1 + 1900.0) * x1 + 2092.0) * x1 + 60.0;
  const double den = ((100.0 * x1 + 500.0) * x1 + 4.0) * x1 + 20.0;
  return factor * num / den;
}

// Maximum of currin_native on [0,1]^2, computed once by tests/objective/reference_values.py:
// a 401 x 401 grid over the square puts it on the edge x2 = 0 (near x1 = 0.2175), and a bounded
// Brent search along x1 at x2 = 0 (scipy minimize_scalar, xatol 1e-14) refines it to
// x1 = 0.21666666351425104 with this value.
constexpr double kCurrinMax = 13.798722044728434;
constexpr double kCurrinArgmaxX1 = 0.21666666351425104;

// Xiong, Qian & Wu (2013) low fidelity: mean of the high fidelity at 4 shifted points.
double currin_low_native(double x1, double x2) {
  const double lo = std::max(0.0, x2 - 0.05);
  return 0.25 * (currin_native(x1 + 0.05, x2 + 0.05) + currin_native(x1 + 0.05, lo) +
                 currin_native(x1 - 0.05, x2 + 0.05) + currin_native(x1 - 0.05, lo));
}

// ---- Gramacy & Lee ------------------------------------------------------------------------

double gramacy_lee_native(double x) {
  const double d = x - 1.0;
  return std::sin(10.0 * kPi * x) / (2.0 * x) + d * d * d * d;
}
// tests/objective/reference_values.py (bounded Brent on [0.5, 0.6]).
constexpr double kGramacyLeeArgmin = 0.54856344568215898;
constexpr double kGramacyLeeMin = -0.86901113498949922;

// ---- Hartmann ---------------------------------------------------------------------------

constexpr std::array<double, 4> kHartmannAlpha = {1.0, 1.2, 3.0, 3.2};
// Fidelity shift of MF-GP-UCB (Kandasamy et al. 2016): alpha_m = alpha + (M - 1 - m) delta.
constexpr std::array<double, 4> kHartmannDelta = {0.01, -0.01, -0.1, 0.1};

constexpr double kH3A[4][3] = {{3.0, 10.0, 30.0}, {0.1, 10.0, 35.0}, {3.0, 10.0, 30.0}, {0.1, 10.0, 35.0}};
// p41 = 0.03815 as in Dixon & Szego (1978); the SFU library's 0.0381 moves the minimum to
// -3.8627797873 (see reference_values.py).
constexpr double kH3P[4][3] = {
    {0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547}, {0.03815, 0.5743, 0.8828}};
constexpr double kH6A[4][6] = {{10.0, 3.0, 17.0, 3.5, 1.7, 8.0},
                               {0.05, 10.0, 17.0, 0.1, 8.0, 14.0},
                               {3.0, 3.5, 1.7, 10.0, 17.0, 8.0},
                               {17.0, 8.0, 0.05, 10.0, 0.1, 14.0}};
constexpr double kH6P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                               {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                               {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                               {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};

template <size_t D>
double hartmann(std::span<const double> x, const double (&a)[4][D], const double (&p)[4][D],
                std::span<const double> alpha) {
  double sum = 0.0;
  for (size_t i = 0; i < 4; ++i) {
    double inner = 0.0;
    for (size_t j = 0; j < D; ++j) {
      const double d = x[j] - p[i][j];
      inner += a[i][j] * d * d;
    }
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

double hartmann_dim(size_t dim, std::span<const double> x, std::span<const double> alpha) {
  return dim == 3 ? hartmann<3>(x, kH3A, kH3P, alpha) : hartmann<6>(x, kH6A, kH6P, alpha);
}

constexpr double kHartmann3Min = -3.86278214782076;
constexpr double kHartmann6Min = -3.32236801141551;
// Minimizers polished by tests/objective/reference_values.py (L-BFGS-B then Nelder-Mead).
const std::vector<double> kHartmann3Argmin = {0.11461433848776445, 0.5556488512149642, 0.8525469533579405};
const std::vector<double> kHartmann6Argmin = {0.20168950695090998, 0.15001069187193894, 0.4768739769189074,
                                              0.2753324302063216,  0.31165161559470017, 0.6573005344586534};

// ---- Fidelities ---------------------------------------------------------------------------

std::vector<Fidelity> single_fidelity() { return {Fidelity{"full", 1.0}}; }

std::vector<Fidelity> make_fidelities(const std::string& function, const MultiFidelityOptions& options) {
  const auto& costs = options.costs;
  MD_CHECK(costs.size() >= 2, function, ": 'costs' needs at least 2 fidelities (cheapest first), got ", costs.size());
  for (size_t i = 0; i < costs.size(); ++i) {
    MD_CHECK(std::isfinite(costs[i]) && costs[i] > 0.0, function, ": 'costs'[", i, "] = ", costs[i],
             " must be a positive number");
    MD_CHECK(i == 0 || costs[i] >= costs[i - 1], function, ": 'costs' must be cheapest first (non-decreasing); ",
             "costs[", i, "] = ", costs[i], " < costs[", i - 1, "] = ", costs[i - 1]);
  }
  std::vector<Fidelity> out;
  const size_t m = costs.size();
  for (size_t i = 0; i < m; ++i) {
    std::string name;
    if (m == 2) {
      name = i == 0 ? "low" : "high";
    } else if (m == 3) {
      name = i == 0 ? "low" : (i == 1 ? "medium" : "high");
    } else {
      name = "f" + std::to_string(i);
    }
    out.push_back(Fidelity{std::move(name), costs[i]});
  }
  return out;
}

constexpr int kMaxFidelities = 10;

}  // namespace

// ---- TestFunction -------------------------------------------------------------------------

TestFunction::TestFunction(std::string name, size_t dim, std::vector<Fidelity> fidelities, double optimum,
                           std::vector<std::vector<double>> minimizers)
    : name_(std::move(name)),
      dim_(dim),
      fidelities_(std::move(fidelities)),
      optimum_(optimum),
      minimizers_(std::move(minimizers)) {
  MD_ASSERT(dim_ > 0 && !fidelities_.empty());
}

std::optional<space::SearchSpace> TestFunction::default_space() const {
  space::SearchSpace space;
  for (size_t i = 0; i < dim_; ++i) space.add_float("x" + std::to_string(i), 0.0, 1.0);
  return space;
}

std::vector<double> TestFunction::point(const space::Config& config) const {
  std::vector<double> u(dim_);
  for (size_t i = 0; i < dim_; ++i) {
    const std::string key = "x" + std::to_string(i);
    auto it = config.find(key);
    MD_CHECK(it != config.end(), name_, ": configuration ", space::to_string(config), " has no parameter '", key,
             "' (expected x0..x", dim_ - 1, ", each in [0,1])");
    if (const auto* d = std::get_if<double>(&it->second)) {
      u[i] = *d;
    } else if (const auto* n = std::get_if<int64_t>(&it->second)) {
      u[i] = static_cast<double>(*n);
    } else {
      throw InvalidArgument(detail::concat(name_, ": parameter '", key, "' is the string '",
                                           std::get<std::string>(it->second), "', expected a number in [0,1]"));
    }
  }
  return u;
}

double TestFunction::value(std::span<const double> u, int fidelity) const {
  MD_CHECK(u.size() == dim_, name_, ": point has ", u.size(), " coordinates, expected ", dim_);
  for (size_t i = 0; i < dim_; ++i) {
    MD_CHECK(u[i] >= 0.0 && u[i] <= 1.0, name_, ": x", i, " = ", u[i], " is outside [0,1]");
  }
  MD_CHECK(fidelity >= 0 && fidelity < n_fidelities(), name_, ": fidelity ", fidelity, " is out of range (0..",
           n_fidelities() - 1, ")");
  return compute(u, fidelity);
}

Evaluation TestFunction::evaluate(const space::Config& config, int fidelity, Reporter& reporter) {
  // Check the fidelity first so that the message names it even for an empty configuration.
  MD_CHECK(fidelity >= 0 && fidelity < n_fidelities(), name_, ": fidelity ", fidelity, " is out of range (0..",
           n_fidelities() - 1, ")");
  const std::vector<double> u = point(config);
  // A multi-fidelity function's learning curve: the value at each cheaper level m < fidelity as
  // step m + 1 (the levels evaluated so far); stopped there, the trial has cost what level m costs.
  for (int m = 0; m < fidelity; ++m) {
    try {
      reporter.report(m + 1, value(u, m));
    } catch (const TrialPruned& e) {
      throw TrialPruned(e.what(), fidelities_[static_cast<size_t>(m)].cost);
    }
  }
  return Evaluation{value(u, fidelity), fidelities_[static_cast<size_t>(fidelity)].cost};
}

MultiFidelityOptions MultiFidelityOptions::with_fidelities(int m) {
  MD_CHECK(m >= 2 && m <= kMaxFidelities, "number of fidelities ", m, " must be in 2..", kMaxFidelities);
  MultiFidelityOptions out;
  out.costs.clear();
  double c = 1.0;
  for (int i = 0; i < m; ++i, c *= 10.0) out.costs.push_back(c);
  return out;
}

// ---- Single-fidelity functions --------------------------------------------------------------

Branin::Branin() : TestFunction("branin", 2, single_fidelity(), kBraninMin, branin_minimizers()) {}

double Branin::compute(std::span<const double> u, int /*fidelity*/) const {
  return branin_native(branin_x1(u[0]), branin_x2(u[1]), kBraninB, kBraninC, kBraninT);
}

Currin::Currin() : TestFunction("currin", 2, single_fidelity(), -kCurrinMax, {{kCurrinArgmaxX1, 0.0}}) {}

double Currin::compute(std::span<const double> u, int /*fidelity*/) const { return -currin_native(u[0], u[1]); }

GramacyLee::GramacyLee()
    : TestFunction("gramacy_lee", 1, single_fidelity(), kGramacyLeeMin, {{(kGramacyLeeArgmin - 0.5) / 2.0}}) {}

double GramacyLee::compute(std::span<const double> u, int /*fidelity*/) const {
  return gramacy_lee_native(0.5 + 2.0 * u[0]);
}

Hartmann3::Hartmann3() : TestFunction("hartmann3", 3, single_fidelity(), kHartmann3Min, {kHartmann3Argmin}) {}

double Hartmann3::compute(std::span<const double> u, int /*fidelity*/) const {
  return hartmann<3>(u, kH3A, kH3P, kHartmannAlpha);
}

Hartmann6::Hartmann6() : TestFunction("hartmann6", 6, single_fidelity(), kHartmann6Min, {kHartmann6Argmin}) {}

double Hartmann6::compute(std::span<const double> u, int /*fidelity*/) const {
  return hartmann<6>(u, kH6A, kH6P, kHartmannAlpha);
}

// ---- Multi-fidelity functions ---------------------------------------------------------------

BraninMF::BraninMF(MultiFidelityOptions options)
    : TestFunction("branin_mf", 2, make_fidelities("branin_mf", options), kBraninMin, branin_minimizers()) {}

double BraninMF::compute(std::span<const double> u, int fidelity) const {
  const int m = n_fidelities();
  if (fidelity == m - 1) {  // the target: exactly Branin (no rounding from z = 1)
    return branin_native(branin_x1(u[0]), branin_x2(u[1]), kBraninB, kBraninC, kBraninT);
  }
  const double gap = 1.0 - static_cast<double>(fidelity) / static_cast<double>(m - 1);  // 1 - z
  return branin_native(branin_x1(u[0]), branin_x2(u[1]), kBraninB - 0.01 * gap, kBraninC - 0.1 * gap,
                       kBraninT + 0.005 * gap);
}

CurrinMF::CurrinMF(MultiFidelityOptions options)
    : TestFunction("currin_mf", 2, make_fidelities("currin_mf", options), -kCurrinMax, {{kCurrinArgmaxX1, 0.0}}) {
  MD_CHECK(options.costs.size() == 2, "currin_mf has exactly 2 fidelities, got ", options.costs.size(), " costs");
}

double CurrinMF::compute(std::span<const double> u, int fidelity) const {
  return fidelity == 1 ? -currin_native(u[0], u[1]) : -currin_low_native(u[0], u[1]);
}

namespace {
std::string hartmann_mf_name(size_t dim) { return "hartmann" + std::to_string(dim) + "_mf"; }
void check_hartmann_dim(size_t dim) { MD_CHECK(dim == 3 || dim == 6, "HartmannMF: dim ", dim, " must be 3 or 6"); }
}  // namespace

HartmannMF::HartmannMF(size_t dim, MultiFidelityOptions options)
    : TestFunction(hartmann_mf_name(dim), dim,
                   (check_hartmann_dim(dim), make_fidelities(hartmann_mf_name(dim), options)),
                   dim == 3 ? kHartmann3Min : kHartmann6Min, {dim == 3 ? kHartmann3Argmin : kHartmann6Argmin}) {
  const int m = n_fidelities();
  // The released MF-GP-UCB code scales delta by 0.1 for the 6-D function (getMFHartFn.m).
  const double scale = dim == 3 ? 1.0 : 0.1;
  for (int f = 0; f < m; ++f) {
    std::vector<double> alpha(kHartmannAlpha.begin(), kHartmannAlpha.end());
    for (size_t i = 0; i < 4; ++i) alpha[i] += scale * kHartmannDelta[i] * static_cast<double>(m - 1 - f);
    alphas_.push_back(std::move(alpha));
  }
}

double HartmannMF::compute(std::span<const double> u, int fidelity) const {
  return hartmann_dim(dim(), u, alphas_[static_cast<size_t>(fidelity)]);
}

// ---- Factory ----------------------------------------------------------------------------

std::vector<std::string> test_function_names() {
  return {"branin",    "currin",    "gramacy_lee",  "hartmann3",   "hartmann6",
          "branin_mf", "currin_mf", "hartmann3_mf", "hartmann6_mf"};
}

namespace {

// The options of a test function, read as the [objective] table named after it: unknown keys and
// wrong types are InvalidArgument (options come through the API), worded by the config reader.
config::Table options_table(const std::string& function, const nlohmann::json& options,
                            const std::vector<std::string>& known) {
  return config::rethrow_as<InvalidArgument>([&] {
    config::Table t = config::Table::from_json(options, function, "[objective]");
    t.expect_keys(known);
    return t;
  });
}

MultiFidelityOptions parse_mf_options(const std::string& function, const nlohmann::json& options) {
  const config::Table t = options_table(function, options, {"costs", "fidelities"});
  return config::rethrow_as<InvalidArgument>([&] {
    const std::optional<int64_t> n = t.integer("fidelities");
    // Checked as int64 before it is narrowed: 4294967298 must not wrap to 2.
    MD_CHECK(!n || (*n >= 2 && *n <= kMaxFidelities), function, ": [objective] fidelities = ", *n, " must be in 2..",
             kMaxFidelities);
    MultiFidelityOptions out = MultiFidelityOptions::with_fidelities(static_cast<int>(n.value_or(2)));
    if (const auto costs = t.numbers("costs")) {
      out.costs = *costs;
      MD_CHECK(!n || static_cast<size_t>(*n) == out.costs.size(), function, ": [objective] fidelities = ", *n,
               " but costs lists ", out.costs.size(), " costs");
      MD_CHECK(out.costs.size() <= static_cast<size_t>(kMaxFidelities), function, ": at most ", kMaxFidelities,
               " fidelities, got ", out.costs.size(), " costs");
    }
    return out;
  });
}

}  // namespace

std::unique_ptr<TestFunction> make_test_function(const std::string& name, const nlohmann::json& options) {
  if (name == "branin" || name == "currin" || name == "gramacy_lee" || name == "hartmann3" || name == "hartmann6") {
    options_table(name, options, {});
    if (name == "branin") return std::make_unique<Branin>();
    if (name == "currin") return std::make_unique<Currin>();
    if (name == "gramacy_lee") return std::make_unique<GramacyLee>();
    if (name == "hartmann3") return std::make_unique<Hartmann3>();
    return std::make_unique<Hartmann6>();
  }
  if (name == "branin_mf") return std::make_unique<BraninMF>(parse_mf_options(name, options));
  if (name == "currin_mf") return std::make_unique<CurrinMF>(parse_mf_options(name, options));
  if (name == "hartmann3_mf") return std::make_unique<HartmannMF>(3, parse_mf_options(name, options));
  if (name == "hartmann6_mf") return std::make_unique<HartmannMF>(6, parse_mf_options(name, options));
  std::string known;
  for (const auto& n : test_function_names()) known += (known.empty() ? "" : ", ") + n;
  throw InvalidArgument(detail::concat("unknown test function '", name, "' (known: ", known, ")"));
}

}  // namespace metadial::objective
