#include "metadial/nn/matmul.h"

#include <immintrin.h>

#include <algorithm>

// Eigen is linked into the torch-free `metadial` library only; its headers live in
// /usr/include/eigen3 (Debian's libeigen3-dev), hence the explicit prefix.
#include <eigen3/Eigen/Core>

#include "metadial/core/error.h"

namespace metadial::nn {
namespace {

// ---- Portable path: Eigen (SSE2 on x86-64 baseline builds), float and double. ----

template <typename T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ColMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <typename M>
using StridedMap = Eigen::Map<const M, Eigen::Unaligned, Eigen::OuterStride<>>;

// Rows (columns) contiguous, with an outer stride that keeps them apart; a single row or column
// qualifies whatever its unused stride.
bool row_major(const torch::Tensor& t) {
  return (t.stride(1) == 1 || t.size(1) == 1) && (t.stride(0) >= t.size(1) || t.size(0) == 1);
}
bool col_major(const torch::Tensor& t) {
  return (t.stride(0) == 1 || t.size(0) == 1) && (t.stride(1) >= t.size(0) || t.size(1) == 1);
}
// The distance between consecutive rows (row-major) or columns (column-major) to give a kernel.
int64_t outer_stride(int64_t stride, int64_t outer_size, int64_t inner_size) {
  return outer_size == 1 ? std::max<int64_t>(inner_size, 1) : stride;
}

// A 2-D tensor seen as an Eigen matrix without copying when it is row- or column-major with an
// outer stride; anything else is made contiguous first. Calls f(map).
template <typename T, typename F>
void with_map(const torch::Tensor& t, F&& f) {
  const int64_t r = t.size(0), c = t.size(1);
  if (row_major(t)) {
    f(StridedMap<RowMajor<T>>(t.data_ptr<T>(), r, c, Eigen::OuterStride<>(outer_stride(t.stride(0), r, c))));
  } else if (col_major(t)) {
    f(StridedMap<ColMajor<T>>(t.data_ptr<T>(), r, c, Eigen::OuterStride<>(outer_stride(t.stride(1), c, r))));
  } else {
    const torch::Tensor ct = t.contiguous();
    f(StridedMap<RowMajor<T>>(ct.data_ptr<T>(), r, c, Eigen::OuterStride<>(c)));
  }
}

template <typename T>
torch::Tensor eigen_mm(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor out = torch::empty({a.size(0), b.size(1)}, a.options());
  Eigen::Map<RowMajor<T>> o(out.data_ptr<T>(), out.size(0), out.size(1));
  with_map<T>(a, [&](const auto& ma) { with_map<T>(b, [&](const auto& mb) { o.noalias() = ma * mb; }); });
  return out;
}

// ---- Fast path: AVX2 + FMA kernels for float, chosen at run time. ----
//
// DOT:  C[i, j] = sum_l A[i, l] * B[l, j] with rows of A and columns of B contiguous in memory
//       (vectorised over l). Used for x W^T.
// AXPY: C[i, :] = sum_l A[i, l] * B[l, :] with rows of B and C contiguous (vectorised over the
//       columns). Used for G^T x and G W, whose outputs are wide.
// Both sum in a fixed order: the same inputs give the same bits on every run.

__attribute__((target("avx2,fma"))) float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// R rows of A against Q rows of B^T: RQ independent accumulators, R + Q loads per RQ
// multiply-adds.
template <int R, int Q>
__attribute__((target("avx2,fma"))) inline void dot_block(const float* a, int64_t lda, const float* bt, int64_t ldb,
                                                           float* c, int64_t ldc, int64_t k) {
  const int64_t k8 = k - k % 8;
  __m256 s[R][Q];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) s[r][q] = _mm256_setzero_ps();
  for (int64_t l = 0; l < k8; l += 8) {
    __m256 vb[Q];
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) vb[q] = _mm256_loadu_ps(bt + q * ldb + l);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 va = _mm256_loadu_ps(a + r * lda + l);
#pragma GCC unroll 4
      for (int q = 0; q < Q; ++q) s[r][q] = _mm256_fmadd_ps(va, vb[q], s[r][q]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int q = 0; q < Q; ++q) {
      float v = hsum(s[r][q]);
      for (int64_t l = k8; l < k; ++l) v += a[r * lda + l] * bt[q * ldb + l];
      c[r * ldc + q] = v;
    }
  }
}

// Rows i..i+R-1 of C: blocks of 4 columns, then the 1-3 left over in one narrower block.
template <int R>
__attribute__((target("avx2,fma"))) inline void dot_rows(const float* a, int64_t lda, const float* bt, int64_t ldb,
                                                          float* c, int64_t ldc, int64_t m, int64_t k) {
  int64_t j = 0;
  for (; j + 4 <= m; j += 4) dot_block<R, 4>(a, lda, bt + j * ldb, ldb, c + j, ldc, k);
  switch (m - j) {
    case 3: dot_block<R, 3>(a, lda, bt + j * ldb, ldb, c + j, ldc, k); break;
    case 2: dot_block<R, 2>(a, lda, bt + j * ldb, ldb, c + j, ldc, k); break;
    case 1: dot_block<R, 1>(a, lda, bt + j * ldb, ldb, c + j, ldc, k); break;
    default: break;
  }
}

__attribute__((target("avx2,fma"))) void dot_avx2(const float* a, int64_t lda, const float* bt, int64_t ldb, float* c,
                                                   int64_t ldc, int64_t n, int64_t m, int64_t k) {
  int64_t i = 0;
  for (; i + 2 <= n; i += 2) dot_rows<2>(a + i * lda, lda, bt, ldb, c + i * ldc, ldc, m, k);
  for (; i < n; ++i) dot_rows<1>(a + i * lda, lda, bt, ldb, c + i * ldc, ldc, m, k);
}

// R rows of C, V vectors (8 V columns) of each, held in registers over the whole sum on l.
template <int R, int V>
__attribute__((target("avx2,fma"))) inline void axpy_block(const float* a, int64_t as0, int64_t as1, const float* b,
                                                            int64_t ldb, float* c, int64_t ldc, int64_t k) {
  __m256 acc[R][V];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  for (int64_t l = 0; l < k; ++l) {
    __m256 vb[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) vb[v] = _mm256_loadu_ps(b + l * ldb + 8 * v);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 vs = _mm256_set1_ps(a[r * as0 + l * as1]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(vs, vb[v], acc[r][v]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(c + r * ldc + 8 * v, acc[r][v]);
}

// Columns j0..m-1 (fewer than 8 or a ragged end): plain loops, same summation order as above.
inline void axpy_tail(const float* a, int64_t as0, int64_t as1, const float* b, int64_t ldb, float* c, int64_t ldc,
                      int64_t i, int64_t j0, int64_t m, int64_t k) {
  for (int64_t j = j0; j < m; ++j) {
    float v = 0;
    for (int64_t l = 0; l < k; ++l) v += a[i * as0 + l * as1] * b[l * ldb + j];
    c[i * ldc + j] = v;
  }
}

__attribute__((target("avx2,fma"))) void axpy_avx2(const float* a, int64_t as0, int64_t as1, const float* b,
                                                    int64_t ldb, float* c, int64_t ldc, int64_t n, int64_t m,
                                                    int64_t k) {
  const int64_t m32 = m - m % 32, m8 = m - m % 8;
  int64_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const float* ai = a + i * as0;
    float* ci = c + i * ldc;
    for (int64_t j = 0; j < m32; j += 32) axpy_block<2, 4>(ai, as0, as1, b + j, ldb, ci + j, ldc, k);
    for (int64_t j = m32; j < m8; j += 8) axpy_block<2, 1>(ai, as0, as1, b + j, ldb, ci + j, ldc, k);
    axpy_tail(a, as0, as1, b, ldb, c, ldc, i, m8, m, k);
    axpy_tail(a, as0, as1, b, ldb, c, ldc, i + 1, m8, m, k);
  }
  for (; i < n; ++i) {
    const float* ai = a + i * as0;
    float* ci = c + i * ldc;
    for (int64_t j = 0; j < m32; j += 32) axpy_block<1, 4>(ai, as0, as1, b + j, ldb, ci + j, ldc, k);
    for (int64_t j = m32; j < m8; j += 8) axpy_block<1, 1>(ai, as0, as1, b + j, ldb, ci + j, ldc, k);
    axpy_tail(a, as0, as1, b, ldb, c, ldc, i, m8, m, k);
  }
}

bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// The AVX2 product when a layout fits one of the kernels without copying; undefined otherwise.
torch::Tensor avx2_mm(const torch::Tensor& a, const torch::Tensor& b) {
  const int64_t n = a.size(0), k = a.size(1), m = b.size(1);
  // Vector width each kernel would get: DOT runs along k, AXPY along m, AXPY on C^T along n.
  const bool dot_ok = row_major(a) && col_major(b) && k >= 8;
  const bool axpy_ok = row_major(b) && m >= 8;
  const bool axpy_t_ok = col_major(a) && n >= 8;  // C^T = B^T A^T: rows of A^T are contiguous
  if (dot_ok && (k >= std::max(axpy_ok ? m : 0, axpy_t_ok ? n : 0) || k >= 64)) {
    torch::Tensor out = torch::empty({n, m}, a.options());
    dot_avx2(a.data_ptr<float>(), outer_stride(a.stride(0), n, k), b.data_ptr<float>(), outer_stride(b.stride(1), m, k),
             out.data_ptr<float>(), m, n, m, k);
    return out;
  }
  if (axpy_ok && (!axpy_t_ok || m >= n)) {
    torch::Tensor out = torch::empty({n, m}, a.options());
    axpy_avx2(a.data_ptr<float>(), a.stride(0), a.stride(1), b.data_ptr<float>(), outer_stride(b.stride(0), k, m),
              out.data_ptr<float>(), m, n, m, k);
    return out;
  }
  if (axpy_t_ok) {
    // C^T (m x n) = B^T (m x k) A^T (k x n): B^T element (j, l) = b[l, j].
    torch::Tensor out_t = torch::empty({m, n}, a.options());
    axpy_avx2(b.data_ptr<float>(), b.stride(1), b.stride(0), a.data_ptr<float>(), outer_stride(a.stride(1), k, n),
              out_t.data_ptr<float>(), n, m, n, k);
    return out_t.t();
  }
  return {};
}

torch::Tensor forward_mm(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.size(0) == 0 || a.size(1) == 0 || b.size(1) == 0) return torch::zeros({a.size(0), b.size(1)}, a.options());
  if (a.scalar_type() == torch::kFloat && have_avx2()) {
    torch::Tensor out = avx2_mm(a, b);
    if (out.defined()) return out;
  }
  return a.scalar_type() == torch::kFloat ? eigen_mm<float>(a, b) : eigen_mm<double>(a, b);
}

struct MmFunction : public torch::autograd::Function<MmFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return forward_mm(a, b);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& g = grads[0];
    torch::Tensor ga, gb;
    // Through dense_mm() again: under create_graph these products are recorded, so the backward is
    // itself differentiable.
    if (ctx->needs_input_grad(0)) ga = metadial::nn::dense_mm(g, saved[1].t());
    if (ctx->needs_input_grad(1)) gb = metadial::nn::dense_mm(saved[0].t(), g);
    return {ga, gb};
  }
};

}  // namespace

torch::Tensor dense_mm(const torch::Tensor& a, const torch::Tensor& b) {
  MD_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "nn::dense_mm: shapes ", a.sizes(), " and ", b.sizes(),
           " do not multiply (need n x k and k x m)");
  MD_CHECK(a.scalar_type() == b.scalar_type() &&
               (a.scalar_type() == torch::kFloat || a.scalar_type() == torch::kDouble),
           "nn::dense_mm: dtypes ", a.scalar_type(), " and ", b.scalar_type(), ", need both float or both double");
  MD_CHECK(a.device().is_cpu() && b.device().is_cpu(), "nn::dense_mm: CPU tensors only");
  return MmFunction::apply(a, b);
}

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return metadial::nn::dense_mm(x, weight.t()) + bias;
}

}  // namespace metadial::nn
