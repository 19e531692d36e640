// GP-prior functions through random Fourier features, and multi-fidelity families of them.
#include "metadial/meta/gp_prior.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "metadial/core/error.h"

namespace metadial::meta {
namespace {

double log_uniform(Rng& rng, double lo, double hi) {
  return std::exp(std::log(lo) + uniform01(rng) * (std::log(hi) - std::log(lo)));
}

// A chi-square variable with k degrees of freedom, as a sum of k squared normals (portable).
double chi_square(Rng& rng, int k) {
  double s = 0.0;
  for (int i = 0; i < k; ++i) {
    const double z = standard_normal(rng);
    s += z * z;
  }
  return s;
}

// Mean and sd of f over points (n x dim, row-major).
void moments(const RffFunction& f, std::span<const double> pts, double* mean, double* sd) {
  const size_t n = pts.size() / static_cast<size_t>(f.dim);
  double s = 0.0, s2 = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double v = f.value(pts.subspan(i * static_cast<size_t>(f.dim), static_cast<size_t>(f.dim)));
    s += v;
    s2 += v * v;
  }
  *mean = s / static_cast<double>(n);
  *sd = std::sqrt(std::max(s2 / static_cast<double>(n) - *mean * *mean, 0.0));
}

std::vector<double> uniform_points(Rng& rng, int n, int dim) {
  std::vector<double> p(static_cast<size_t>(n) * static_cast<size_t>(dim));
  for (auto& v : p) v = uniform01(rng);
  return p;
}

// The best of the points, refined by projected gradient descent (step grown on success, halved
// on failure) from each of the 16 best points.
void estimate_minimum(RffFunction& f, std::span<const double> pts, int steps) {
  const auto d = static_cast<size_t>(f.dim);
  const size_t n = pts.size() / d;
  std::vector<std::pair<double, size_t>> order;
  for (size_t i = 0; i < n; ++i) order.emplace_back(f.value(pts.subspan(i * d, d)), i);
  const size_t starts = std::min<size_t>(steps > 0 ? 16 : 1, n);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(starts), order.end());
  f.minimum = order[0].first;
  f.argmin.assign(pts.begin() + static_cast<std::ptrdiff_t>(order[0].second * d),
                  pts.begin() + static_cast<std::ptrdiff_t>((order[0].second + 1) * d));
  std::vector<double> g(d), y(d);
  for (size_t s0 = 0; s0 < starts && steps > 0; ++s0) {
    std::vector<double> x(pts.begin() + static_cast<std::ptrdiff_t>(order[s0].second * d),
                          pts.begin() + static_cast<std::ptrdiff_t>((order[s0].second + 1) * d));
    double best_v = order[s0].first;
    double step = 0.01;
    for (int s = 0; s < steps && step > 1e-9; ++s) {
      f.value(x, g);
      for (size_t k = 0; k < d; ++k) y[k] = std::clamp(x[k] - step * g[k], 0.0, 1.0);
      const double v = f.value(y);
      if (v < best_v) {
        best_v = v;
        x = y;
        step *= 1.5;
      } else {
        step *= 0.5;
      }
    }
    if (best_v < f.minimum) {
      f.minimum = best_v;
      f.argmin = x;
    }
  }
}

}  // namespace

const char* to_string(PriorKernel kernel) {
  switch (kernel) {
    case PriorKernel::kRbf: return "rbf";
    case PriorKernel::kMatern32: return "matern32";
    case PriorKernel::kMatern52: return "matern52";
  }
  return "?";
}

PriorKernel kernel_from_string(const std::string& name) {
  if (name == "rbf") return PriorKernel::kRbf;
  if (name == "matern32") return PriorKernel::kMatern32;
  if (name == "matern52") return PriorKernel::kMatern52;
  throw InvalidArgument("unknown prior kernel '" + name + "' (known: rbf, matern32, matern52)");
}

double kernel_correlation(PriorKernel kernel, double r) {
  switch (kernel) {
    case PriorKernel::kRbf: return std::exp(-0.5 * r * r);
    case PriorKernel::kMatern32: {
      const double a = std::sqrt(3.0) * r;
      return (1.0 + a) * std::exp(-a);
    }
    case PriorKernel::kMatern52: {
      const double a = std::sqrt(5.0) * r;
      return (1.0 + a + a * a / 3.0) * std::exp(-a);
    }
  }
  return 0.0;
}

void GpPriorOptions::validate() const {
  MD_CHECK(dim >= 1 && dim <= 16, "GP prior: dim must be in [1, 16], got ", dim);
  MD_CHECK(!kernels.empty(), "GP prior: give at least one kernel");
  MD_CHECK(min_lengthscale > 0 && min_lengthscale <= max_lengthscale, "GP prior: lengthscale range [",
           min_lengthscale, ", ", max_lengthscale, "] must be positive and ordered");
  MD_CHECK(min_variance > 0 && min_variance <= max_variance, "GP prior: variance range [", min_variance, ", ",
           max_variance, "] must be positive and ordered");
  MD_CHECK(n_features >= 1, "GP prior: n_features must be >= 1, got ", n_features);
  MD_CHECK(n_normalize >= 2, "GP prior: n_normalize must be >= 2, got ", n_normalize);
  MD_CHECK(refine_steps >= 0, "GP prior: refine_steps must be >= 0, got ", refine_steps);
  MD_CHECK(anisotropy >= 1.0 && anisotropy <= 100.0, "GP prior: anisotropy must be in [1, 100], got ", anisotropy);
  MD_CHECK(bump_fraction >= 0.0 && bump_fraction <= 1.0, "GP prior: bump fraction must be in [0, 1], got ",
           bump_fraction);
  MD_CHECK(max_bumps >= 1 && max_bumps <= 64, "GP prior: max bumps must be in [1, 64], got ", max_bumps);
  MD_CHECK(min_bump_width > 0 && min_bump_width <= max_bump_width, "GP prior: bump width range [", min_bump_width,
           ", ", max_bump_width, "] must be positive and ordered");
  MD_CHECK(bump_background >= 0, "GP prior: bump background must be >= 0, got ", bump_background);
}

double RffFunction::value(std::span<const double> x) const {
  const auto d = static_cast<size_t>(dim);
  double s = offset;
  const double* om = omega.data();
  for (size_t j = 0; j < phase.size(); ++j, om += d) {
    double a = phase[j];
    for (size_t k = 0; k < d; ++k) a += om[k] * x[k];
    s += weight[j] * std::cos(a);
  }
  for (size_t i = 0; i < bump_weight.size(); ++i) {
    double q = 0.0;
    for (size_t k = 0; k < d; ++k) {
      const double z = (x[k] - bump_centre[i * d + k]) * bump_scale[i * d + k];
      q += z * z;
    }
    s += bump_weight[i] * std::exp(-0.5 * q);
  }
  return s;
}

double RffFunction::value(std::span<const double> x, std::span<double> grad) const {
  const auto d = static_cast<size_t>(dim);
  std::fill(grad.begin(), grad.end(), 0.0);
  double s = offset;
  const double* om = omega.data();
  for (size_t j = 0; j < phase.size(); ++j, om += d) {
    double a = phase[j];
    for (size_t k = 0; k < d; ++k) a += om[k] * x[k];
    s += weight[j] * std::cos(a);
    const double ds = -weight[j] * std::sin(a);
    for (size_t k = 0; k < d; ++k) grad[k] += ds * om[k];
  }
  for (size_t i = 0; i < bump_weight.size(); ++i) {
    double q = 0.0;
    for (size_t k = 0; k < d; ++k) {
      const double z = (x[k] - bump_centre[i * d + k]) * bump_scale[i * d + k];
      q += z * z;
    }
    const double v = bump_weight[i] * std::exp(-0.5 * q);
    s += v;
    for (size_t k = 0; k < d; ++k) {
      const double sc = bump_scale[i * d + k];
      grad[k] -= v * (x[k] - bump_centre[i * d + k]) * sc * sc;
    }
  }
  return s;
}

RffFunction RffFunction::combine(double a, const RffFunction& other, double b, double c) const {
  MD_ASSERT(dim == other.dim, "combine: dims differ");
  RffFunction out = *this;
  out.omega.insert(out.omega.end(), other.omega.begin(), other.omega.end());
  out.phase.insert(out.phase.end(), other.phase.begin(), other.phase.end());
  for (auto& w : out.weight) w *= a;
  for (double w : other.weight) out.weight.push_back(b * w);
  out.bump_centre.insert(out.bump_centre.end(), other.bump_centre.begin(), other.bump_centre.end());
  out.bump_scale.insert(out.bump_scale.end(), other.bump_scale.begin(), other.bump_scale.end());
  for (auto& w : out.bump_weight) w *= a;
  for (double w : other.bump_weight) out.bump_weight.push_back(b * w);
  out.offset = a * offset + b * other.offset + c;
  out.argmin.clear();
  return out;
}

RffFunction sample_gp_function(const GpPriorOptions& o, Rng& rng) {
  o.validate();
  RffFunction f;
  f.dim = o.dim;
  f.kernel = o.kernels[std::min(o.kernels.size() - 1, static_cast<size_t>(uniform01(rng) * static_cast<double>(o.kernels.size())))];
  const double ls_scale = o.dim_scaled ? std::sqrt(static_cast<double>(o.dim)) : 1.0;
  f.lengthscale = log_uniform(rng, o.min_lengthscale * ls_scale, o.max_lengthscale * ls_scale);
  f.variance = log_uniform(rng, o.min_variance, o.max_variance);
  const auto n = static_cast<size_t>(o.n_features);
  const auto d = static_cast<size_t>(o.dim);
  f.omega.resize(n * d);
  f.phase.resize(n);
  f.weight.resize(n);
  // Per-dimension factors (ARD); drawn only when asked for, so that an isotropic prior draws
  // exactly the functions it always drew.
  std::vector<double> dim_factor(d, 1.0);
  if (o.anisotropy > 1.0) {
    for (auto& a : dim_factor) a = std::pow(o.anisotropy, 2.0 * uniform01(rng) - 1.0);
  }
  const double wsd = std::sqrt(2.0 * f.variance / static_cast<double>(n));
  for (size_t j = 0; j < n; ++j) {
    double scale = 1.0 / f.lengthscale;
    if (f.kernel == PriorKernel::kMatern32) scale *= std::sqrt(3.0 / chi_square(rng, 3));
    if (f.kernel == PriorKernel::kMatern52) scale *= std::sqrt(5.0 / chi_square(rng, 5));
    for (size_t k = 0; k < d; ++k) f.omega[j * d + k] = standard_normal(rng) * scale / dim_factor[k];
    f.phase[j] = 2.0 * std::numbers::pi * uniform01(rng);
    f.weight[j] = wsd * standard_normal(rng);
  }
  if (o.bump_fraction > 0.0 && uniform01(rng) < o.bump_fraction) {
    // The bumps family: the GP sample above becomes the background.
    f.family = "bumps";
    for (auto& w : f.weight) w *= o.bump_background;
    const int nb = 1 + std::min(o.max_bumps - 1, static_cast<int>(uniform01(rng) * o.max_bumps));
    for (int i = 0; i < nb; ++i) {
      for (size_t k = 0; k < d; ++k) {
        f.bump_centre.push_back(uniform01(rng));
        f.bump_scale.push_back(1.0 / log_uniform(rng, o.min_bump_width, o.max_bump_width));
      }
      const double depth = 0.3 + 0.7 * uniform01(rng);
      f.bump_weight.push_back(uniform01(rng) < 0.8 ? -depth : depth);
    }
  }
  if (o.normalize) {
    const auto pts = uniform_points(rng, o.n_normalize, o.dim);
    double mean = 0, sd = 0;
    moments(f, pts, &mean, &sd);
    sd = std::max(sd, 1e-9);
    for (auto& w : f.weight) w /= sd;
    for (auto& w : f.bump_weight) w /= sd;
    f.offset = (f.offset - mean) / sd;
    if (f.n_bumps() > 0) {
      // The basins' centres are candidate starts too: a narrow basin is easily missed by the points.
      std::vector<double> starts = pts;
      starts.insert(starts.end(), f.bump_centre.begin(), f.bump_centre.end());
      estimate_minimum(f, starts, o.refine_steps);
    } else {
      estimate_minimum(f, pts, o.refine_steps);
    }
  }
  return f;
}

void FidelityOptions::validate() const {
  MD_CHECK(fidelities >= 1 && fidelities <= 8, "fidelities must be in [1, 8], got ", fidelities);
  MD_CHECK(costs.empty() || static_cast<int>(costs.size()) == fidelities, "give ", fidelities,
           " costs (one per fidelity, cheapest first), got ", costs.size());
  for (size_t i = 0; i < costs.size(); ++i) {
    MD_CHECK(costs[i] > 0 && (i == 0 || costs[i] >= costs[i - 1]), "costs must be positive and non-decreasing, got ",
             costs[i], " at position ", i);
  }
  MD_CHECK(low_correlation > -1.0 && low_correlation <= 1.0, "low_correlation must be in (-1, 1], got ",
           low_correlation);
  MD_CHECK(bias_sd >= 0, "bias_sd must be >= 0, got ", bias_sd);
}

std::vector<double> FidelityOptions::cost_vector() const {
  if (!costs.empty()) return costs;
  std::vector<double> c;
  for (int m = 0; m < fidelities; ++m) c.push_back(std::pow(10.0, m));
  return c;
}

std::vector<double> FidelityOptions::correlations() const {
  std::vector<double> rho;
  for (int m = 0; m < fidelities; ++m) {
    rho.push_back(fidelities == 1 ? 1.0
                                  : low_correlation + (1.0 - low_correlation) * m / static_cast<double>(fidelities - 1));
  }
  return rho;
}

MultiFidelityFunction sample_multi_fidelity(const GpPriorOptions& options, const FidelityOptions& fo, Rng& rng) {
  fo.validate();
  GpPriorOptions o = options;
  o.normalize = true;
  MultiFidelityFunction mf;
  mf.costs = fo.cost_vector();
  RffFunction target = sample_gp_function(o, rng);
  const auto rho = fo.correlations();
  const auto pts = uniform_points(rng, o.n_normalize, o.dim);
  const auto d = static_cast<size_t>(o.dim);
  const size_t n = pts.size() / d;
  GpPriorOptions og = o;
  og.refine_steps = 0;
  for (int m = 0; m + 1 < fo.fidelities; ++m) {
    // An independent sample of the same kernel and lengthscale, orthogonalized against the target
    // on the points: g' = (g - c f) / sd, with c = cov(f, g) / var(f).
    GpPriorOptions same = og;
    same.kernels = {target.kernel};
    same.min_lengthscale = same.max_lengthscale = target.lengthscale;
    same.dim_scaled = false;
    same.bump_fraction = 0.0;
    same.anisotropy = 1.0;
    const RffFunction g = sample_gp_function(same, rng);
    double fm = 0, fs = 0, gm = 0, gs = 0, cov = 0;
    moments(target, pts, &fm, &fs);
    moments(g, pts, &gm, &gs);
    for (size_t i = 0; i < n; ++i) {
      const auto p = std::span<const double>(pts).subspan(i * d, d);
      cov += (target.value(p) - fm) * (g.value(p) - gm);
    }
    cov /= static_cast<double>(n);
    const double c = fs > 0 ? cov / (fs * fs) : 0.0;
    RffFunction h = g.combine(1.0, target, -c, 0.0);  // g - c f
    double hm = 0, hs = 0;
    moments(h, pts, &hm, &hs);
    hs = std::max(hs, 1e-9);
    // Scale target and deviation to unit sd on the points so rho is the correlation there.
    const double a = rho[static_cast<size_t>(m)] / std::max(fs, 1e-9);
    const double b = std::sqrt(std::max(0.0, 1.0 - rho[static_cast<size_t>(m)] * rho[static_cast<size_t>(m)])) / hs;
    const double bias = fo.bias_sd * standard_normal(rng);
    // a f + b h = (a - b c) f + b g: one feature set each.
    RffFunction low = target.combine(a - b * c, g, b, bias - a * fm - b * hm);
    low.minimum = 0.0;
    mf.levels.push_back(std::move(low));
  }
  mf.levels.push_back(std::move(target));
  return mf;
}

double correlation(const RffFunction& a, const RffFunction& b, int n, Rng& rng) {
  MD_CHECK(a.dim == b.dim && n >= 2, "correlation: dims differ or n < 2");
  const auto pts = uniform_points(rng, n, a.dim);
  const auto d = static_cast<size_t>(a.dim);
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int i = 0; i < n; ++i) {
    const auto p = std::span<const double>(pts).subspan(static_cast<size_t>(i) * d, d);
    const double u = a.value(p), v = b.value(p);
    sa += u;
    sb += v;
    saa += u * u;
    sbb += v * v;
    sab += u * v;
  }
  const double nn = n;
  const double cov = sab / nn - sa / nn * sb / nn;
  const double va = saa / nn - sa / nn * sa / nn, vb = sbb / nn - sb / nn * sb / nn;
  return cov / std::sqrt(std::max(va * vb, 1e-300));
}

}  // namespace metadial::meta
