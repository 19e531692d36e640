#include "metadial/optim/gp.h"

#include <LBFGSB.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "metadial/core/error.h"

namespace metadial::optim {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kSqrt5 = 2.23606797749978969641;
constexpr double kHalfLog2Pi = 0.91893853320467274178;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Smallest latent variance reported, relative to the (standardized) amplitude: below it the
// posterior is the noise floor's round-off, and EI's sd = sqrt(variance) must stay positive.
constexpr double kMinRelVariance = 1e-12;

// Matern-5/2 of r^2 for unit amplitude: value and d value / d r^2.
struct Matern {
  double k;
  double dk_dr2;
};
inline Matern matern52(double r2) {
  const double r = std::sqrt(r2);
  const double e = std::exp(-kSqrt5 * r);
  return {(1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * e, -5.0 / 6.0 * (1.0 + kSqrt5 * r) * e};
}

// Log marginal likelihood of y under (theta, X) with its gradient: the work of one evaluation.
// Per-dimension squared differences of all pairs are computed once, since they do not depend
// on theta.
class LmlEvaluator {
 public:
  LmlEvaluator(const MatrixXd& x, const VectorXd& y) : x_(x), y_(y), n_(x.rows()), d_(x.cols()) {
    const Eigen::Index n_pairs = n_ * (n_ - 1) / 2;
    diff2_.resize(static_cast<size_t>(n_pairs * d_));
    size_t p = 0;
    for (Eigen::Index a = 1; a < n_; ++a) {
      for (Eigen::Index b = 0; b < a; ++b) {
        for (Eigen::Index i = 0; i < d_; ++i) {
          const double t = x_(a, i) - x_(b, i);
          diff2_[p++] = t * t;
        }
      }
    }
    k_.resize(n_, n_);
    g_.resize(static_cast<size_t>(n_pairs));
    kf_.resize(static_cast<size_t>(n_pairs));
  }

  // theta = [log amplitude, log l_1..l_d, log noise]. Returns -inf when K is not positive definite.
  double operator()(const VectorXd& theta, VectorXd* grad) {
    const double s2 = std::exp(theta(0));
    const double noise = std::exp(theta(d_ + 1));
    VectorXd inv_l2(d_);
    for (Eigen::Index i = 0; i < d_; ++i) inv_l2(i) = std::exp(-2.0 * theta(1 + i));

    size_t p = 0;
    for (Eigen::Index a = 0; a < n_; ++a) {
      for (Eigen::Index b = 0; b < a; ++b, ++p) {
        const double* dd = diff2_.data() + p * static_cast<size_t>(d_);
        double r2 = 0.0;
        for (Eigen::Index i = 0; i < d_; ++i) r2 += dd[i] * inv_l2(i);
        const Matern m = matern52(r2);
        kf_[p] = s2 * m.k;
        g_[p] = -2.0 * s2 * m.dk_dr2;  // d k / d log l_i = g * diff2_i / l_i^2
        k_(a, b) = kf_[p];
      }
      k_(a, a) = s2 + noise;
    }
    llt_.compute(k_);  // reads the lower triangle only
    if (llt_.info() != Eigen::Success) return -kInf;
    const auto& l = llt_.matrixLLT();
    double log_det_half = 0.0;
    for (Eigen::Index a = 0; a < n_; ++a) log_det_half += std::log(l(a, a));
    alpha_ = llt_.solve(y_);
    const double lml = -0.5 * y_.dot(alpha_) - log_det_half - 0.5 * static_cast<double>(n_) * 2.0 * kHalfLog2Pi;
    if (!grad) return lml;

    // dL/dtheta = 0.5 tr((alpha alpha^T - K^-1) dK/dtheta), summed over the lower triangle
    // twice plus the diagonal.
    kinv_.setIdentity(n_, n_);
    llt_.solveInPlace(kinv_);
    grad->setZero(d_ + 2);
    double g_amp = 0.0, g_noise = 0.0;
    VectorXd g_len = VectorXd::Zero(d_);
    p = 0;
    for (Eigen::Index a = 0; a < n_; ++a) {
      for (Eigen::Index b = 0; b < a; ++b, ++p) {
        const double w = alpha_(a) * alpha_(b) - kinv_(a, b);
        g_amp += 2.0 * w * kf_[p];
        const double wg = 2.0 * w * g_[p];
        const double* dd = diff2_.data() + p * static_cast<size_t>(d_);
        for (Eigen::Index i = 0; i < d_; ++i) g_len(i) += wg * dd[i];
      }
      const double w = alpha_(a) * alpha_(a) - kinv_(a, a);
      g_amp += w * s2;
      g_noise += w * noise;
    }
    (*grad)(0) = 0.5 * g_amp;
    for (Eigen::Index i = 0; i < d_; ++i) (*grad)(1 + i) = 0.5 * g_len(i) * inv_l2(i);
    (*grad)(d_ + 1) = 0.5 * g_noise;
    return lml;
  }

 private:
  const MatrixXd& x_;
  const VectorXd& y_;
  Eigen::Index n_, d_;
  std::vector<double> diff2_, g_, kf_;
  MatrixXd k_, kinv_;
  VectorXd alpha_;
  Eigen::LLT<MatrixXd> llt_;
};

// Bounds and prior on theta.
struct ThetaSpace {
  VectorXd lb, ub;
  bool prior = true;
  double prior_mean = 0.0;
  static constexpr double kPriorVar = 3.0;

  ThetaSpace(const GpOptions& o, Eigen::Index d) : lb(d + 2), ub(d + 2), prior(o.lengthscale_prior) {
    lb(0) = std::log(o.min_amplitude);
    ub(0) = std::log(o.max_amplitude);
    for (Eigen::Index i = 0; i < d; ++i) {
      lb(1 + i) = std::log(o.min_lengthscale);
      ub(1 + i) = std::log(o.max_lengthscale);
    }
    lb(d + 1) = std::log(o.min_noise);
    ub(d + 1) = std::log(o.max_noise);
    prior_mean = std::numbers::sqrt2 + 0.5 * std::log(static_cast<double>(d));
  }

  // Log prior (up to a constant) and its gradient added into grad.
  double log_prior(const VectorXd& theta, VectorXd* grad) const {
    if (!prior) return 0.0;
    double lp = 0.0;
    const Eigen::Index d = theta.size() - 2;
    for (Eigen::Index i = 0; i < d; ++i) {
      const double t = theta(1 + i) - prior_mean;
      lp -= 0.5 * t * t / kPriorVar;
      if (grad) (*grad)(1 + i) -= t / kPriorVar;
    }
    return lp;
  }
};

// Objective for LBFGSpp: negative log posterior; remembers the best point it has seen, since
// a line search that throws must not lose a good point.
struct NegLogPosterior {
  LmlEvaluator& lml;
  const ThetaSpace& space;
  double best_f = kInf;
  VectorXd best_theta;

  double operator()(const VectorXd& theta, VectorXd& grad) {
    double f = lml(theta, &grad);
    if (!std::isfinite(f)) {
      grad.setZero(theta.size());
      return 1e100;
    }
    f += space.log_prior(theta, &grad);
    grad = -grad;
    if (-f < best_f) {
      best_f = -f;
      best_theta = theta;
    }
    return -f;
  }
};

}  // namespace

std::vector<double> GpHyperparameters::to_log() const {
  std::vector<double> t;
  t.reserve(lengthscales.size() + 2);
  t.push_back(std::log(amplitude));
  for (double l : lengthscales) t.push_back(std::log(l));
  t.push_back(std::log(noise));
  return t;
}

GpHyperparameters GpHyperparameters::from_log(std::span<const double> theta) {
  MD_CHECK(theta.size() >= 2, "GP log-hyperparameters need at least 2 entries, got ", theta.size());
  GpHyperparameters h;
  h.amplitude = std::exp(theta.front());
  h.noise = std::exp(theta.back());
  for (size_t i = 1; i + 1 < theta.size(); ++i) h.lengthscales.push_back(std::exp(theta[i]));
  return h;
}

void GpOptions::validate() const {
  MD_CHECK(n_restarts >= 1, "GP: n_restarts must be >= 1 (got ", n_restarts, ")");
  MD_CHECK(max_iterations >= 1, "GP: max_iterations must be >= 1 (got ", max_iterations, ")");
  MD_CHECK(0 < min_lengthscale && min_lengthscale < max_lengthscale,
           "GP: lengthscale bounds must satisfy 0 < min < max (got ", min_lengthscale, ", ", max_lengthscale, ")");
  MD_CHECK(0 < min_amplitude && min_amplitude < max_amplitude, "GP: amplitude bounds must satisfy 0 < min < max (got ",
           min_amplitude, ", ", max_amplitude, ")");
  MD_CHECK(0 < min_noise && min_noise < max_noise, "GP: noise bounds must satisfy 0 < min < max (got ", min_noise, ", ",
           max_noise, ")");
}

struct GaussianProcess::Impl {
  size_t dim;
  GpOptions opt;
  MatrixXd x;  // n x d
  VectorXd y;  // standardized targets
  double y_mean = 0.0, y_sd = 1.0;
  GpHyperparameters h;
  VectorXd inv_l2;
  Eigen::LLT<MatrixXd> llt;
  VectorXd alpha;
  MatrixXd kinv;
  double lml = std::numeric_limits<double>::quiet_NaN();

  void set_data(std::span<const double> xs, std::span<const double> ys) {
    MD_CHECK(!ys.empty(), "GP: no observations");
    MD_CHECK(xs.size() == ys.size() * dim, "GP: ", xs.size(), " input values for ", ys.size(),
             " observations of dimension ", dim, " (expected ", ys.size() * dim, ")");
    const auto n = static_cast<Eigen::Index>(ys.size());
    x.resize(n, static_cast<Eigen::Index>(dim));
    y.resize(n);
    for (Eigen::Index a = 0; a < n; ++a) {
      for (size_t i = 0; i < dim; ++i) {
        const double v = xs[static_cast<size_t>(a) * dim + i];
        MD_CHECK(std::isfinite(v), "GP: input ", a, " has a non-finite coordinate");
        x(a, static_cast<Eigen::Index>(i)) = v;
      }
      MD_CHECK(std::isfinite(ys[static_cast<size_t>(a)]), "GP: target ", a, " is not finite");
      y(a) = ys[static_cast<size_t>(a)];
    }
    y_mean = 0.0;
    y_sd = 1.0;
    if (opt.standardize) {
      y_mean = y.mean();
      const double var = (y.array() - y_mean).square().mean();
      y_sd = var > 0 ? std::sqrt(var) : 1.0;
      if (!(y_sd > 1e-300)) y_sd = 1.0;
      y = (y.array() - y_mean) / y_sd;
    }
  }

  void factorize() {
    const auto n = x.rows();
    const auto d = static_cast<Eigen::Index>(dim);
    inv_l2.resize(d);
    for (Eigen::Index i = 0; i < d; ++i)
      inv_l2(i) = 1.0 / (h.lengthscales[static_cast<size_t>(i)] * h.lengthscales[static_cast<size_t>(i)]);
    MatrixXd k(n, n);
    for (Eigen::Index a = 0; a < n; ++a) {
      for (Eigen::Index b = 0; b < a; ++b) {
        const double r2 = ((x.row(a) - x.row(b)).array().square() * inv_l2.transpose().array()).sum();
        k(a, b) = k(b, a) = h.amplitude * matern52(r2).k;
      }
      k(a, a) = h.amplitude + h.noise;
    }
    // The noise floor keeps K positive definite in exact arithmetic; if round-off still
    // breaks the factorization, add jitter (1e-8, 1e-6 ... of the amplitude).
    double jitter = 0.0;
    for (int attempt = 0; attempt < 6; ++attempt) {
      if (jitter > 0) k.diagonal().array() += jitter;
      llt.compute(k);
      if (llt.info() == Eigen::Success) break;
      MD_ASSERT(attempt < 5, "GP: kernel matrix not positive definite even with jitter");
      jitter = (jitter == 0 ? 1e-8 : 100.0 * jitter) * h.amplitude;
    }
    alpha = llt.solve(y);
    kinv.setIdentity(n, n);
    llt.solveInPlace(kinv);
    double log_det_half = 0.0;
    for (Eigen::Index a = 0; a < n; ++a) log_det_half += std::log(llt.matrixLLT()(a, a));
    lml = -0.5 * y.dot(alpha) - log_det_half - static_cast<double>(n) * kHalfLog2Pi;
  }

  void check_ready() const { MD_CHECK(x.rows() > 0, "GP: predict before fit() or condition()"); }
};

GaussianProcess::GaussianProcess(size_t dim, GpOptions options) : impl_(std::make_unique<Impl>()) {
  MD_CHECK(dim >= 1, "GP: input dimension must be >= 1");
  options.validate();
  impl_->dim = dim;
  impl_->opt = options;
  impl_->h.lengthscales.assign(dim, 0.5);
}

GaussianProcess::~GaussianProcess() = default;
GaussianProcess::GaussianProcess(GaussianProcess&&) noexcept = default;
GaussianProcess& GaussianProcess::operator=(GaussianProcess&&) noexcept = default;

size_t GaussianProcess::dim() const { return impl_->dim; }
size_t GaussianProcess::size() const { return static_cast<size_t>(impl_->x.rows()); }
const GpOptions& GaussianProcess::options() const { return impl_->opt; }
const GpHyperparameters& GaussianProcess::hyperparameters() const { return impl_->h; }
double GaussianProcess::noise() const { return impl_->h.noise * impl_->y_sd * impl_->y_sd; }
double GaussianProcess::log_marginal_likelihood() const { return impl_->lml; }

double GaussianProcess::log_marginal_likelihood(const GpHyperparameters& h, std::vector<double>* grad) const {
  impl_->check_ready();
  MD_CHECK(h.lengthscales.size() == impl_->dim, "GP: ", h.lengthscales.size(), " lengthscales for dimension ",
           impl_->dim);
  const std::vector<double> t = h.to_log();
  const VectorXd theta = Eigen::Map<const VectorXd>(t.data(), static_cast<Eigen::Index>(t.size()));
  LmlEvaluator eval(impl_->x, impl_->y);
  VectorXd g;
  const double lml = eval(theta, grad ? &g : nullptr);
  if (grad) grad->assign(g.data(), g.data() + g.size());
  return lml;
}

void GaussianProcess::condition(std::span<const double> x, std::span<const double> y, const GpHyperparameters& h) {
  MD_CHECK(h.lengthscales.size() == impl_->dim, "GP: ", h.lengthscales.size(), " lengthscales for dimension ",
           impl_->dim);
  MD_CHECK(h.amplitude > 0 && h.noise > 0, "GP: amplitude and noise must be positive (got ", h.amplitude, ", ", h.noise,
           ")");
  for (double l : h.lengthscales) MD_CHECK(l > 0, "GP: lengthscales must be positive (got ", l, ")");
  impl_->set_data(x, y);
  impl_->h = h;
  impl_->factorize();
}

void GaussianProcess::fit(std::span<const double> x, std::span<const double> y, Rng& rng) {
  Impl& m = *impl_;
  m.set_data(x, y);
  const auto d = static_cast<Eigen::Index>(m.dim);
  const ThetaSpace space(m.opt, d);
  LmlEvaluator eval(m.x, m.y);
  NegLogPosterior objective{eval, space, kInf, {}};
  auto log_posterior = [&](const VectorXd& theta) {
    const double l = eval(theta, nullptr);
    return std::isfinite(l) ? l + space.log_prior(theta, nullptr) : -kInf;
  };

  // Starts: the default point (amplitude 1, lengthscale 0.5, noise 1e-3), then the best of
  // several random points (log-uniform in a central part of the box) by log posterior, which
  // costs one Cholesky each instead of a full optimization.
  std::vector<VectorXd> starts;
  VectorXd t0(d + 2);
  t0(0) = 0.0;
  t0.segment(1, d).setConstant(std::log(0.5));
  t0(d + 1) = std::log(1e-3);
  starts.push_back(t0.cwiseMax(space.lb).cwiseMin(space.ub));
  const int n_random = m.opt.n_restarts - 1;
  if (n_random > 0) {
    std::vector<std::pair<double, VectorXd>> pool;
    auto log_uniform = [&](double lo, double hi) {
      return std::log(lo) + uniform01(rng) * (std::log(hi) - std::log(lo));
    };
    for (int r = 0; r < 4 * n_random; ++r) {
      VectorXd t(d + 2);
      t(0) = log_uniform(0.2, 5.0);
      for (Eigen::Index i = 0; i < d; ++i) t(1 + i) = log_uniform(0.05, 5.0);
      t(d + 1) = log_uniform(1e-6, 1e-1);
      t = t.cwiseMax(space.lb).cwiseMin(space.ub);
      pool.emplace_back(log_posterior(t), t);
    }
    std::stable_sort(pool.begin(), pool.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (int r = 0; r < n_random; ++r) starts.push_back(pool[static_cast<size_t>(r)].second);
  }

  LBFGSpp::LBFGSBParam<double> param;
  param.max_iterations = m.opt.max_iterations;
  param.epsilon = 1e-5;
  param.epsilon_rel = 1e-5;
  param.past = 1;
  param.delta = 1e-8;
  param.max_linesearch = 30;
  LBFGSpp::LBFGSBSolver<double> solver(param);
  for (VectorXd t : starts) {
    double fx = 0.0;
    try {
      solver.minimize(objective, t, fx, space.lb, space.ub);
    } catch (const std::exception&) {
      // Line-search failures near the bounds are expected; the objective kept the best point.
    }
  }
  VectorXd best = objective.best_theta.size() == d + 2 ? objective.best_theta : starts.front();
  std::vector<double> bt(best.data(), best.data() + best.size());
  m.h = GpHyperparameters::from_log(bt);
  m.factorize();
}

GpPrediction GaussianProcess::predict(std::span<const double> x) const { return predict(x, {}, {}); }

GpPrediction GaussianProcess::predict(std::span<const double> x, std::span<double> d_mean,
                                      std::span<double> d_variance) const {
  const Impl& m = *impl_;
  m.check_ready();
  MD_CHECK(x.size() == m.dim, "GP: point of dimension ", x.size(), ", model of dimension ", m.dim);
  const bool want_grad = !d_mean.empty() || !d_variance.empty();
  MD_CHECK(!want_grad || (d_mean.size() == m.dim && d_variance.size() == m.dim), "GP: gradient buffers need size ",
           m.dim);
  const auto n = m.x.rows();
  const auto d = static_cast<Eigen::Index>(m.dim);
  VectorXd k(n), dk(n);  // k(x, x_j) and d k / d r^2
  for (Eigen::Index j = 0; j < n; ++j) {
    double r2 = 0.0;
    for (Eigen::Index i = 0; i < d; ++i) {
      const double t = x[static_cast<size_t>(i)] - m.x(j, i);
      r2 += t * t * m.inv_l2(i);
    }
    const Matern mt = matern52(r2);
    k(j) = m.h.amplitude * mt.k;
    dk(j) = m.h.amplitude * mt.dk_dr2;
  }
  const VectorXd v = m.kinv * k;
  double var = m.h.amplitude - k.dot(v);
  const double floor = kMinRelVariance * m.h.amplitude;
  const bool clamped = var < floor;
  if (clamped) var = floor;
  const double mean = k.dot(m.alpha);
  if (want_grad) {
    // d k_j / d x_i = dk_j * 2 (x_i - x_j,i) / l_i^2
    for (Eigen::Index i = 0; i < d; ++i) {
      double gm = 0.0, gv = 0.0;
      for (Eigen::Index j = 0; j < n; ++j) {
        const double dkj = dk(j) * 2.0 * (x[static_cast<size_t>(i)] - m.x(j, i)) * m.inv_l2(i);
        gm += m.alpha(j) * dkj;
        gv += v(j) * dkj;
      }
      d_mean[static_cast<size_t>(i)] = gm * m.y_sd;
      d_variance[static_cast<size_t>(i)] = clamped ? 0.0 : -2.0 * gv * m.y_sd * m.y_sd;
    }
  }
  return {m.y_mean + m.y_sd * mean, var * m.y_sd * m.y_sd};
}

void GaussianProcess::predict_batch(std::span<const double> xs, std::span<double> means,
                                    std::span<double> variances) const {
  const Impl& m = *impl_;
  m.check_ready();
  const size_t count = means.size();
  MD_CHECK(variances.size() == count && xs.size() == count * m.dim, "GP: predict_batch needs ", count * m.dim,
           " coordinates and ", count, " variances for ", count, " means");
  const auto n = m.x.rows();
  const auto d = static_cast<Eigen::Index>(m.dim);
  constexpr size_t kBlock = 256;
  MatrixXd ks;
  for (size_t start = 0; start < count; start += kBlock) {
    const auto rows = static_cast<Eigen::Index>(std::min(kBlock, count - start));
    ks.resize(rows, n);
    for (Eigen::Index r = 0; r < rows; ++r) {
      const double* xr = xs.data() + (start + static_cast<size_t>(r)) * m.dim;
      for (Eigen::Index j = 0; j < n; ++j) {
        double r2 = 0.0;
        for (Eigen::Index i = 0; i < d; ++i) {
          const double t = xr[i] - m.x(j, i);
          r2 += t * t * m.inv_l2(i);
        }
        ks(r, j) = m.h.amplitude * matern52(r2).k;
      }
    }
    const VectorXd mu = ks * m.alpha;
    const VectorXd quad = ((ks * m.kinv).array() * ks.array()).rowwise().sum();
    for (Eigen::Index r = 0; r < rows; ++r) {
      const size_t o = start + static_cast<size_t>(r);
      means[o] = m.y_mean + m.y_sd * mu(r);
      variances[o] = std::max(m.h.amplitude - quad(r), kMinRelVariance * m.h.amplitude) * m.y_sd * m.y_sd;
    }
  }
}

}  // namespace metadial::optim
