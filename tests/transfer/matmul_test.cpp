// metadial::nn::dense_mm against torch::mm (the reference BLAS product) for every layout the kernels
// distinguish, and its first and second derivatives against torch's.
#include "metadial/nn/matmul.h"

#include <gtest/gtest.h>

#include "metadial/core/error.h"

namespace metadial::nn {
namespace {

struct Layout {
  const char* name;
  // Builds an n x k (or k x m) operand with this layout from a generator of contiguous tensors.
  torch::Tensor (*make)(int64_t rows, int64_t cols, torch::Dtype dtype);
};

torch::Tensor contiguous(int64_t r, int64_t c, torch::Dtype d) { return torch::randn({r, c}, torch::dtype(d)); }
torch::Tensor transposed(int64_t r, int64_t c, torch::Dtype d) { return torch::randn({c, r}, torch::dtype(d)).t(); }
torch::Tensor column_slice(int64_t r, int64_t c, torch::Dtype d) {
  return torch::randn({r, c + 3}, torch::dtype(d)).narrow(1, 1, c);  // rows contiguous, outer stride c + 3
}
torch::Tensor strided(int64_t r, int64_t c, torch::Dtype d) {
  return torch::randn({r, 2 * c}, torch::dtype(d)).slice(1, 0, 2 * c, 2);  // neither layout
}

const Layout kLayouts[] = {{"contiguous", contiguous}, {"transposed", transposed},
                           {"column_slice", column_slice}, {"strided", strided}};

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  if (want.numel() == 0) return;
  const double tol = got.scalar_type() == torch::kFloat ? 1e-5 : 1e-12;
  const double scale = std::max(1.0, want.abs().max().item<double>());
  EXPECT_LE((got - want).abs().max().item<double>(), tol * scale * 10) << what;
}

TEST(DenseMm, MatchesTorchForEveryLayoutAndShape) {
  torch::manual_seed(0);
  const std::vector<std::array<int64_t, 3>> shapes = {
      {256, 784, 10}, {10, 256, 784}, {784, 256, 10}, {256, 10, 784}, {256, 784, 1}, {1, 256, 784},
      {3, 5, 7},      {9, 17, 8},     {1, 1, 1},      {8, 8, 8},      {13, 64, 3},   {0, 4, 5}, {4, 0, 5}};
  for (torch::Dtype d : {torch::kFloat, torch::kDouble}) {
    for (const auto& [n, k, m] : shapes) {
      for (const Layout& la : kLayouts) {
        for (const Layout& lb : kLayouts) {
          const torch::Tensor a = la.make(n, k, d), b = lb.make(k, m, d);
          expect_close(dense_mm(a, b), torch::mm(a, b),
                       std::string(la.name) + " x " + lb.name + " " + std::to_string(n) + "x" + std::to_string(k) +
                           "x" + std::to_string(m) + (d == torch::kFloat ? " float" : " double"));
        }
      }
    }
  }
}

TEST(DenseMm, FirstAndSecondDerivativesMatchTorch) {
  torch::manual_seed(1);
  for (torch::Dtype d : {torch::kFloat, torch::kDouble}) {
    for (const Layout& lb : kLayouts) {
      const torch::Tensor x = torch::randn({37, 20}, torch::dtype(d)).requires_grad_(true);
      const torch::Tensor w = lb.make(20, 9, d).detach().requires_grad_(true);
      const torch::Tensor v = torch::randn({37, 9}, torch::dtype(d));
      // f = sum(tanh(x w) * v); compare grad f and the gradient of |grad_w f|^2 (a Hessian product).
      auto second = [&](auto product) {
        const torch::Tensor f = (torch::tanh(product(x, w)) * v).sum();
        const auto g = torch::autograd::grad({f}, {x, w}, {}, true, true);
        const torch::Tensor h = g[1].pow(2).sum() + g[0].pow(2).sum();
        const auto hg = torch::autograd::grad({h}, {x, w});
        return std::vector<torch::Tensor>{g[0].detach(), g[1].detach(), hg[0], hg[1]};
      };
      const auto ours = second([](const torch::Tensor& a, const torch::Tensor& b) { return dense_mm(a, b); });
      const auto ref = second([](const torch::Tensor& a, const torch::Tensor& b) { return torch::mm(a, b); });
      for (size_t i = 0; i < ours.size(); ++i) {
        expect_close(ours[i], ref[i], std::string("derivative ") + std::to_string(i) + " with w " + lb.name);
      }
    }
  }
}

TEST(DenseMm, RejectsShapesAndDtypesThatDoNotMultiply) {
  EXPECT_THROW(dense_mm(torch::zeros({2, 3}), torch::zeros({4, 2})), InvalidArgument);
  EXPECT_THROW(dense_mm(torch::zeros({2, 3}), torch::zeros({3, 2}, torch::kDouble)), InvalidArgument);
  EXPECT_THROW(dense_mm(torch::zeros({2, 3}, torch::kLong), torch::zeros({3, 2}, torch::kLong)), InvalidArgument);
  EXPECT_THROW(dense_mm(torch::zeros({2}), torch::zeros({2, 2})), InvalidArgument);
}

TEST(DenseMm, LinearAddsTheBias) {
  const torch::Tensor x = torch::tensor({{1.0f, 2.0f}});
  const torch::Tensor w = torch::tensor({{1.0f, 0.0f}, {0.5f, -1.0f}, {2.0f, 3.0f}});
  const torch::Tensor b = torch::tensor({0.0f, 1.0f, -8.0f});
  EXPECT_TRUE(torch::equal(dense_linear(x, w, b), torch::tensor({{1.0f, -0.5f, 0.0f}})));
}

}  // namespace
}  // namespace metadial::nn
