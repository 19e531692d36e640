#include "metadial/objective/learning_curve.h"

#include <string>
#include <vector>

#include "metadial/core/config.h"
#include "metadial/core/error.h"

namespace metadial::objective {
namespace {

constexpr double kCenter = 0.3;
constexpr int64_t kMaxSteps = 1000000;
constexpr size_t kMaxDim = 20;

std::vector<Fidelity> one_fidelity() { return {Fidelity{"full", 1.0}}; }

// q(u): the squared distance to the centre, the part of the loss that training does not remove.
double distance(std::span<const double> u) {
  double q = 0.0;
  for (double x : u) q += (x - kCenter) * (x - kCenter);
  return q;
}

// y = q + 1 / (1 + t).
double curve(double q, int64_t step) { return q + 1.0 / (1.0 + static_cast<double>(step)); }

LearningCurveOptions checked(LearningCurveOptions o) {
  MD_CHECK(o.steps >= 2 && o.steps <= kMaxSteps, "learning_curve: steps = ", o.steps, " must be in 2..", kMaxSteps);
  MD_CHECK(o.dim >= 1 && o.dim <= kMaxDim, "learning_curve: dim = ", o.dim, " must be in 1..", kMaxDim);
  return o;
}

}  // namespace

LearningCurve::LearningCurve(LearningCurveOptions options)
    : TestFunction("learning_curve", checked(options).dim, one_fidelity(), 1.0 / static_cast<double>(options.steps),
                   {std::vector<double>(options.dim, kCenter)}),
      steps_(options.steps) {}

double LearningCurve::value_at(std::span<const double> u, int64_t step) const {
  MD_CHECK(step >= 0 && step < steps_, "learning_curve: step ", step, " is out of range (0..", steps_ - 1, ")");
  (void)value(u, 0);  // validates u
  return curve(distance(u), step);
}

double LearningCurve::compute(std::span<const double> u, int /*fidelity*/) const {
  return curve(distance(u), steps_ - 1);
}

Evaluation LearningCurve::evaluate(const space::Config& config, int fidelity, Reporter& reporter) {
  MD_CHECK(fidelity == 0, "learning_curve: fidelity ", fidelity, " is out of range (0..0)");
  const std::vector<double> u = point(config);
  const double final_value = value(u, 0);  // validates u
  const double q = distance(u);
  for (int64_t t = 0; t < steps_; ++t) {
    try {
      reporter.report(t, curve(q, t));
    } catch (const TrialPruned& e) {
      throw TrialPruned(e.what(), static_cast<double>(t + 1) / static_cast<double>(steps_));
    }
  }
  return Evaluation{final_value, 1.0};
}

std::unique_ptr<LearningCurve> make_learning_curve(const nlohmann::json& options) {
  return config::rethrow_as<InvalidArgument>([&] {
    const config::Table t = config::Table::from_json(options, "learning_curve", "[objective]");
    t.expect_keys({"steps", "dim"});
    LearningCurveOptions o;
    if (const auto n = t.integer("steps")) {
      if (*n < 2 || *n > kMaxSteps) t.invalid("steps", metadial::detail::concat("must be in 2..", kMaxSteps));
      o.steps = *n;
    }
    if (const auto d = t.integer("dim")) {
      if (*d < 1 || *d > static_cast<int64_t>(kMaxDim))
        t.invalid("dim", metadial::detail::concat("must be in 1..", kMaxDim));
      o.dim = static_cast<size_t>(*d);
    }
    return std::make_unique<LearningCurve>(o);
  });
}

}  // namespace metadial::objective
