// Test functions with known minima, single- and multi-fidelity, for checking and comparing
// optimizers (simple regret = best value found - known_optimum()).
//
// Every function lives on the unit cube [0,1]^d: its parameters are named x0..x{d-1}, its
// default_space() declares them as floats in [0,1], and it maps the cube affinely onto the
// function's native domain. All are minimized.
//
//   name          d  fidelities  native domain                 minimum
//   branin        2  1           [-5,10] x [0,15]               0.397887357729738
//   currin        2  1           [0,1]^2 (negated, see Currin)  -13.798722044728434
//   gramacy_lee   1  1           [0.5, 2.5]                     -0.869011134989500
//   hartmann3     3  1           [0,1]^3                        -3.86278214782076
//   hartmann6     6  1           [0,1]^6                        -3.32236801141551
//   branin_mf     2  M (def. 2)  as branin; BOCA's fidelity-shifted b, c, t
//   currin_mf     2  2           as currin; Xiong et al.'s 4-point average as low fidelity
//   hartmann3_mf  3  M (def. 2)  as hartmann3; MF-GP-UCB's fidelity-shifted alpha
//   hartmann6_mf  6  M (def. 2)  as hartmann6; MF-GP-UCB's fidelity-shifted alpha
//
// Multi-fidelity variants list their fidelities cheapest first (default costs 1, 10, 100, ...:
// 10^m); the last one, the target, is exactly the plain function. An evaluation costs its
// fidelity's cost. An evaluation at fidelity f reports the values at the cheaper levels as its
// learning curve (level m < f at step m + 1, the levels evaluated so far; the result, level f's
// value, is step f + 1), so a pruner can stop it at a cheaper level, which then is what it cost.
// Options come from the registry's JSON (see make_test_function).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/objective/objective.h"

namespace metadial::objective {

/// Common base of the built-in test functions: a function of a unit-cube point and a fidelity,
/// wrapped as an Objective. Stateless after construction, so evaluate() is thread-safe.
class TestFunction : public Objective {
 public:
  /// Reads x0..x{d-1} from `config` and returns value(point, fidelity) with the fidelity's cost,
  /// after reporting value(point, m) at step m + 1 for every cheaper level m < fidelity (the reporter
  /// may stop it there: TrialPruned with level m's cost). Throws InvalidArgument on a missing or non-numeric x_i, an x_i outside [0,1] or a fidelity
  /// outside [0, n_fidelities()).
  Evaluation evaluate(const space::Config& config, int fidelity, Reporter& reporter) override;
  std::vector<Fidelity> fidelities() const override { return fidelities_; }
  /// x0..x{d-1}, each a float in [0,1].
  std::optional<space::SearchSpace> default_space() const override;
  /// The global minimum at the target fidelity.
  std::optional<double> known_optimum() const override { return optimum_; }
  /// Multi-fidelity functions report the cheaper levels (steps 1..M-1); the target is step M.
  bool reports_intermediate() const override { return n_fidelities() > 1; }
  std::optional<int64_t> max_step() const override {
    if (n_fidelities() == 1) return std::nullopt;
    return n_fidelities();
  }
  std::string name() const override { return name_; }

  /// Dimension d of the unit cube.
  size_t dim() const { return dim_; }
  int n_fidelities() const { return static_cast<int>(fidelities_.size()); }
  /// Index of the target (most expensive, exact) fidelity.
  int target_fidelity() const { return n_fidelities() - 1; }
  /// Value at unit-cube point `u` (size d, each in [0,1]) at `fidelity`; validates as evaluate().
  double value(std::span<const double> u, int fidelity) const;
  /// Value at the target fidelity.
  double value(std::span<const double> u) const { return value(u, target_fidelity()); }
  /// The known global minimizers at the target fidelity, as unit-cube points.
  const std::vector<std::vector<double>>& minimizers() const { return minimizers_; }
  /// The unit-cube point of a configuration (x0..x{d-1}); throws as evaluate() does.
  std::vector<double> point(const space::Config& config) const;

 protected:
  TestFunction(std::string name, size_t dim, std::vector<Fidelity> fidelities, double optimum,
               std::vector<std::vector<double>> minimizers);
  /// The function itself; `u` and `fidelity` are already validated.
  virtual double compute(std::span<const double> u, int fidelity) const = 0;

 private:
  std::string name_;
  size_t dim_;
  std::vector<Fidelity> fidelities_;
  double optimum_;
  std::vector<std::vector<double>> minimizers_;
};

/// Costs of a multi-fidelity test function, cheapest first (at least 2, positive, non-decreasing).
/// Their number is the number of fidelities M.
struct MultiFidelityOptions {
  std::vector<double> costs = {1.0, 10.0};
  /// M fidelities with the default costs 1, 10, 100, ... (10^m).
  static MultiFidelityOptions with_fidelities(int m);
};

/// Branin-Hoo (Dixon & Szego 1978): (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s with
/// b = 5.1/(4 pi^2), c = 5/pi, r = 6, s = 10, t = 1/(8 pi), on x1 in [-5,10], x2 in [0,15].
/// Three minimizers (-pi, 12.275), (pi, 2.275), (3 pi, 2.475), minimum 5/(4 pi) = 0.397887...
class Branin final : public TestFunction {
 public:
  Branin();

 protected:
  double compute(std::span<const double> u, int fidelity) const override;
};

/// Currin exponential (Currin et al. 1991), NEGATED so that it is minimized:
///   -(1 - exp(-1/(2 x2))) (2300 x1^3 + 1900 x1^2 + 2092 x1 + 60) / (100 x1^3 + 500 x1^2 + 4 x1 + 20)
/// on [0,1]^2 (the factor is 1 at x2 = 0). Its maximum 13.798722044728434 at
/// (0.2166666..., 0), so the minimum here is -13.798722044728434.
class Currin final : public TestFunction {
 public:
  Currin();

 protected:
  double compute(std::span<const double> u, int fidelity) const override;
};

/// Gramacy & Lee (2012): sin(10 pi x) / (2 x) + (x - 1)^4 on x in [0.5, 2.5];
/// minimum -0.869011134989500 at x = 0.548563444...
class GramacyLee final : public TestFunction {
 public:
  GramacyLee();

 protected:
  double compute(std::span<const double> u, int fidelity) const override;
};

/// Hartmann 3-D: -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2) on [0,1]^3, with the constants
/// of Dixon & Szego (1978) (p41 = 0.03815); minimum -3.86278214782076 at
/// (0.114614, 0.555649, 0.852547).
class Hartmann3 final : public TestFunction {
 public:
  Hartmann3();

 protected:
  double compute(std::span<const double> u, int fidelity) const override;
};

/// Hartmann 6-D on [0,1]^6; minimum -3.32236801141551 at
/// (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
class Hartmann6 final : public TestFunction {
 public:
  Hartmann6();

 protected:
  double compute(std::span<const double> u, int fidelity) const override;
};

/// Multi-fidelity Branin of BOCA (Kandasamy et al. 2017, "Multi-fidelity Bayesian optimisation
/// with continuous approximations", Sec. 5 / Appendix; dragonfly's demos_synthetic/branin):
/// fidelity z in [0,1] shifts b(z) = b - 0.01 (1 - z), c(z) = c - 0.1 (1 - z),
/// t(z) = t + 0.005 (1 - z). Here the M discrete fidelities are z = m / (M - 1), m = 0..M-1, one
/// z for all three constants; z = 1 (the target) is exactly Branin.
class BraninMF final : public TestFunction {
 public:
  explicit BraninMF(MultiFidelityOptions options = {});

 protected:
  double compute(std::span<const double> u, int fidelity) const override;
};

/// Two-fidelity Currin exponential (Xiong, Qian & Wu 2013, used by MF-GP-UCB, Kandasamy et al.
/// 2016): the low fidelity averages the (negated) high fidelity at the 4 points
/// (x1 +- 0.05, x2 + 0.05) and (x1 +- 0.05, max(0, x2 - 0.05)). Exactly 2 fidelities.
class CurrinMF final : public TestFunction {
 public:
  explicit CurrinMF(MultiFidelityOptions options = {});

 protected:
  double compute(std::span<const double> u, int fidelity) const override;
};

/// Multi-fidelity Hartmann of MF-GP-UCB (Kandasamy et al. 2016, "Gaussian process bandit
/// optimisation with multi-fidelity evaluations", Appendix; code kirthevasank/mf-gp-ucb,
/// getMFHart3Fn.m / getMFHartFn.m): fidelity m = 0..M-1 uses alpha_m = alpha + (M - 1 - m) delta
/// with delta = (0.01, -0.01, -0.1, 0.1) for 3-D and 0.1 * that for 6-D (as in the released
/// code). m = M - 1 (the target) is exactly Hartmann3 / Hartmann6. Differences from that code:
/// M defaults to 2 here (it used 3 for 3-D and 4 for 6-D: pass {"fidelities": 3} / 4), and the
/// 3-D constant p41 is Dixon & Szego's 0.03815 (the code's 0.0381 shifts values by < 1e-5).
class HartmannMF final : public TestFunction {
 public:
  /// `dim` is 3 or 6.
  HartmannMF(size_t dim, MultiFidelityOptions options = {});

 protected:
  double compute(std::span<const double> u, int fidelity) const override;

 private:
  std::vector<std::vector<double>> alphas_;  // one alpha vector per fidelity
};

/// Creates a built-in test function by name (branin, currin, gramacy_lee, hartmann3, hartmann6,
/// branin_mf, currin_mf, hartmann3_mf, hartmann6_mf). Options (a JSON object, null = none):
/// single-fidelity functions take none; multi-fidelity ones take "costs" (array, cheapest first)
/// and/or "fidelities" (their number M; default 2, currin_mf only 2). Throws InvalidArgument on an
/// unknown name, an unknown option key (naming the known ones) or a bad value.
std::unique_ptr<TestFunction> make_test_function(const std::string& name, const nlohmann::json& options = nullptr);

/// Names accepted by make_test_function, in a fixed order.
std::vector<std::string> test_function_names();

}  // namespace metadial::objective
