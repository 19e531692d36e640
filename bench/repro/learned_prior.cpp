// Issue 14, part 1 (diagnosis): where do the minima of the meta-training functions lie, and where
// do the named benchmarks' minima lie? A policy trained on functions whose minimum is usually on a
// face of the cube learns to search the faces (bench/results/learned_transfer.md: 50-90 % of the
// learned proposals within 0.05 of a face, uniform 10-47 %), which is wrong for Hartmann-3/6,
// whose minimizers are interior.
//
// For each prior (the paper's notebooks' GP prior, which the shipped models were trained on, and
// the wider prior of --lengthscale-min 0.05 --lengthscale-max 0.5 --anisotropy 3 --bumps B, and with
// --bump-background 0.05) and
// d = 1, 2, 3, 6: the fraction of N sampled functions whose estimated minimizer (best of 2048
// points refined by 100 projected-gradient steps, as the held-out functions) lies within 0.05 of a
// face, and the mean distance of the minimizer to the nearest face. The named benchmarks' known
// minimizers beside them.
//
//   build/release/bench/repro_learned_prior                  # N = 300 (about a minute)
//   build/release/bench/repro_learned_prior --functions 50   # quicker
//
// Writes bench/results/learned_prior.{md,csv}.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "metadial/core/random.h"
#include "metadial/meta/gp_prior.h"
#include "metadial/objective/test_functions.h"

namespace {

using namespace metadial;

double face_distance(const std::vector<double>& x) {
  double d = 1.0;
  for (double v : x) d = std::min({d, v, 1.0 - v});
  return d;
}

struct Row {
  std::string prior;
  int d = 0;
  int n = 0;
  double near_face = 0.0, mean_face_distance = 0.0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"issue 14: where the minima of the meta-training priors and of the named benchmarks lie"};
  int functions = 300;
  uint64_t seed = 1;
  std::string out_dir = "bench/results";
  std::vector<int> dims = {1, 2, 3, 6};
  app.add_option("--functions", functions, "functions per prior and dimension")->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--dims", dims, "dimensions")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(out_dir);

  struct Prior {
    std::string name;
    meta::GpPriorOptions options;
  };
  std::vector<Prior> priors;
  {
    meta::GpPriorOptions paper;  // the defaults: the prior the shipped models were trained on
    priors.push_back({"paper's GP prior (lengthscale [0.1, 0.4] sqrt(d))", paper});
    meta::GpPriorOptions wide = paper;
    wide.min_lengthscale = 0.05;
    wide.max_lengthscale = 0.5;
    wide.anisotropy = 3.0;
    for (double b : {0.0, 0.5, 1.0}) {
      wide.bump_fraction = b;
      priors.push_back({fmt::format("wide prior, bumps {}", b), wide});
    }
    wide.bump_background = 0.05;
    priors.push_back({"wide prior, bumps 1, background 0.05", wide});
  }
  std::vector<Row> rows;
  for (const auto& p : priors) {
    for (int d : dims) {
      meta::GpPriorOptions o = p.options;
      o.dim = d;
      o.n_normalize = 2048;
      o.refine_steps = 100;
      Rng rng(derive_seed(seed, {static_cast<uint64_t>(d)}));
      Row r{p.name, d, functions};
      for (int i = 0; i < functions; ++i) {
        const meta::RffFunction f = meta::sample_gp_function(o, rng);
        const double fd = face_distance(f.argmin);
        r.near_face += fd < 0.05;
        r.mean_face_distance += fd;
      }
      r.near_face /= functions;
      r.mean_face_distance /= functions;
      rows.push_back(r);
    }
  }
  std::ofstream csv(out_dir + "/learned_prior.csv");
  csv << "source,d,n,near_face,mean_face_distance\n";
  std::string md =
      "# Where the minima lie: meta-training priors and named benchmarks (issue 14, diagnosis)\n\n"
      "Fraction of minimizers within 0.05 of a face of the unit cube, and their mean distance to the nearest "
      "face. A uniform point is within 0.05 of a face with probability 1 - 0.9^d (d = 1, 2, 3, 6: 0.10, 0.19, "
      "0.27, 0.47).\n\n";
  md += fmt::format("Reproduce: `build/release/bench/repro_learned_prior --functions {} --seed {}`.\n\n", functions, seed);
  md += "| source | d | functions | minimizer within 0.05 of a face | mean distance to a face |\n|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    md += fmt::format("| {} | {} | {} | {:.2f} | {:.3f} |\n", r.prior, r.d, r.n, r.near_face, r.mean_face_distance);
    csv << fmt::format("\"{}\",{},{},{:.4f},{:.4f}\n", r.prior, r.d, r.n, r.near_face, r.mean_face_distance);
  }
  for (const char* name : {"gramacy_lee", "branin", "currin", "hartmann3", "hartmann6"}) {
    const auto f = objective::make_test_function(name);
    double near = 0.0, dist = 0.0;
    const auto& ms = f->minimizers();
    for (const auto& m : ms) {
      near += face_distance(m) < 0.05;
      dist += face_distance(m);
    }
    const int n = static_cast<int>(ms.size());
    md += fmt::format("| {} (its {} known minimizer{}) | {} | - | {:.2f} | {:.3f} |\n", name, n, n == 1 ? "" : "s",
                      f->dim(), near / n, dist / n);
    csv << fmt::format("{},{},{},{:.4f},{:.4f}\n", name, f->dim(), n, near / n, dist / n);
  }
  std::ofstream(out_dir + "/learned_prior.md") << md;
  std::cout << md;
  return 0;
}
