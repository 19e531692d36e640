#include "metadial/optim/acquisition.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/optim/gp.h"

namespace metadial::optim {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kHalfLog2Pi = 0.91893853320467274178;  // log sqrt(2 pi)
constexpr double kSqrtHalfPi = 1.25331413731550025121;  // sqrt(pi / 2)
// Below this z, 1 - |z| Phi(z) / phi(z) ~ 1 / z^2 is beyond double precision and the
// asymptotic log h(z) = log phi(z) - 2 log|z| is exact to rounding (Ament et al. use -1e6 too).
constexpr double kAsymptoticZ = -1e6;

double normal_pdf(double z) { return std::exp(-0.5 * z * z - kHalfLog2Pi); }
double normal_cdf(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }

// log(1 - exp(w)) for w < 0 (Maechler 2012).
double log1mexp(double w) { return w > -std::numbers::ln2 ? std::log(-std::expm1(w)) : std::log1p(-std::exp(w)); }

// Phi(z) / phi(z) for z <= -1, via erfcx (no underflow).
double mills_ratio_neg(double z) { return kSqrtHalfPi * erfcx(-z * kInvSqrt2); }

}  // namespace

double erfcx(double x) {
  if (x < 10.0) {
    // exp(x^2) erfc(x); x^2 is split into its rounded value and the rounding error so the
    // exponential does not amplify the error of x*x (up to 100 ulp at x = 10).
    const double x2 = x * x;
    const double err = std::fma(x, x, -x2);
    return std::exp(x2) * (1.0 + err) * std::erfc(x);
  }
  // Asymptotic series erfcx(x) = 1/(x sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2x^2)^k; for x >= 10
  // the terms shrink by (2k-1)/200 or faster, so 16 terms leave an error below 1e-19.
  const double t = 0.5 / (x * x);
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 16; ++k) {
    term *= -static_cast<double>(2 * k - 1) * t;
    sum += term;
  }
  return sum / (x * std::sqrt(std::numbers::pi));
}

double log_h(double z) {
  if (z > -1.0) return std::log(normal_pdf(z) + z * normal_cdf(z));
  const double log_phi = -0.5 * z * z - kHalfLog2Pi;
  if (z > kAsymptoticZ) {
    // h = phi (1 - |z| Phi/phi), and |z| Phi/phi < 1.
    const double w = std::log(-z * mills_ratio_neg(z));
    return log_phi + log1mexp(w);
  }
  return log_phi - 2.0 * std::log(-z);
}

double log_h_derivative(double z) {
  if (z > -1.0) return normal_cdf(z) / (normal_pdf(z) + z * normal_cdf(z));
  if (z > kAsymptoticZ) {
    const double r = mills_ratio_neg(z);
    return r / (1.0 + z * r);  // Phi / h = (Phi/phi) / (h/phi)
  }
  return -z - 2.0 / z;
}

AcquisitionValue expected_improvement(double mean, double sd, double best) {
  MD_CHECK(sd > 0, "expected improvement needs sd > 0 (got ", sd, ")");
  const double z = (best - mean) / sd;
  const double h = z > -1.0 ? normal_pdf(z) + z * normal_cdf(z) : std::exp(log_h(z));
  return {sd * h, -normal_cdf(z), normal_pdf(z)};
}

AcquisitionValue log_expected_improvement(double mean, double sd, double best) {
  MD_CHECK(sd > 0, "log expected improvement needs sd > 0 (got ", sd, ")");
  const double z = (best - mean) / sd;
  const double dz = log_h_derivative(z);
  // dz/dmean = -1/sd, dz/dsd = -z/sd; d log sd / dsd = 1/sd.
  return {log_h(z) + std::log(sd), -dz / sd, (1.0 - z * dz) / sd};
}

const char* to_string(AcquisitionKind kind) { return kind == AcquisitionKind::kEi ? "ei" : "logei"; }

double acquisition_at(const GaussianProcess& gp, AcquisitionKind kind, double best, std::span<const double> x,
                      std::span<double> grad) {
  const size_t d = gp.dim();
  if (grad.empty()) {
    const GpPrediction p = gp.predict(x);
    const double sd = std::sqrt(p.variance);
    return kind == AcquisitionKind::kEi ? expected_improvement(p.mean, sd, best).value
                                        : log_expected_improvement(p.mean, sd, best).value;
  }
  MD_CHECK(grad.size() == d, "acquisition gradient buffer has size ", grad.size(), ", expected ", d);
  std::vector<double> d_mean(d), d_var(d);
  const GpPrediction p = gp.predict(x, d_mean, d_var);
  const double sd = std::sqrt(p.variance);
  const AcquisitionValue a = kind == AcquisitionKind::kEi ? expected_improvement(p.mean, sd, best)
                                                          : log_expected_improvement(p.mean, sd, best);
  for (size_t i = 0; i < d; ++i) grad[i] = a.d_mean * d_mean[i] + a.d_sd * d_var[i] / (2.0 * sd);
  return a.value;
}

}  // namespace metadial::optim
