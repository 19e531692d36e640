// Expected improvement (EI) for minimization, and its logarithm computed without underflow.
//
// With a Gaussian prediction N(mean, sd^2) of the loss and the best loss so far `best`,
//   z = (best - mean) / sd,   EI = sd * h(z),   h(z) = phi(z) + z Phi(z).
// EI underflows to 0 in double precision for z below about -38, which leaves an optimizer
// nothing to climb; log h(z) stays finite and smooth for any z (Ament et al. 2023,
// "Unexpected improvements to expected improvement for Bayesian optimization", eq. 9):
// for z > -1 it is log(phi(z) + z Phi(z)); below, log phi(z) + log1mexp(log(-z Phi(z)/phi(z)))
// with Phi/phi written through the scaled complementary error function erfcx.
#pragma once

#include <span>
#include <string>

namespace metadial::optim {

class GaussianProcess;

/// log h(z) = log(phi(z) + z Phi(z)), finite for every finite z.
double log_h(double z);
/// d log h / dz = Phi(z) / h(z), finite for every finite z.
double log_h_derivative(double z);
/// erfcx(x) = exp(x^2) erfc(x), accurate for x >= 0 (and by exp(x^2) erfc(x) for x < 0).
double erfcx(double x);

/// A value of an acquisition function and its derivatives with respect to mean and sd.
struct AcquisitionValue {
  double value = 0.0;
  double d_mean = 0.0;
  double d_sd = 0.0;
};

/// EI of a loss predicted as N(mean, sd^2) (sd > 0) below `best`.
AcquisitionValue expected_improvement(double mean, double sd, double best);
/// log EI, finite wherever sd > 0 (derivatives too).
AcquisitionValue log_expected_improvement(double mean, double sd, double best);

/// Which acquisition a sampler maximizes.
enum class AcquisitionKind { kLogEi, kEi };
/// "logei" / "ei".
const char* to_string(AcquisitionKind kind);

/// Acquisition value at a unit-cube point x under a fitted GP (loss model, minimized), and, if
/// `grad` is non-empty (size dim), its gradient with respect to x. Uses the GP's latent
/// (noise-free) variance.
double acquisition_at(const GaussianProcess& gp, AcquisitionKind kind, double best, std::span<const double> x,
                      std::span<double> grad = {});

}  // namespace metadial::optim
