// Matrix products for small CPU networks, differentiable to any order.
//
// Debian's LibTorch calls the reference (netlib) BLAS for float/double matrix products, which
// runs at about 2 GFLOP/s: a 256 x 784 x 10 product takes a millisecond. dense_mm() computes
// the product with AVX2/FMA kernels for float where the CPU has them (chosen at run time) and
// with Eigen otherwise (and for double), about 10x (Eigen) to 25x (AVX2) faster at these sizes.
// Its backward is written with dense_mm() again, so gradients and gradients of gradients
// (create_graph, as the meta-gradients of transfer/ need) take the fast path too. Sums run in a
// fixed order: the same inputs give the same bits on a given machine; an AVX2 machine and one
// without can differ in the last bits. Use it where a model's time goes into dense products;
// other ops stay torch's.
//
// Includes torch: it takes and returns torch tensors.
#pragma once

#include <torch/torch.h>

namespace metadial::nn {

/// a (n x k) times b (k x m) for 2-D float or double CPU tensors of one dtype, any strides;
/// autograd-aware (first and higher order). Throws InvalidArgument for other shapes or dtypes.
torch::Tensor dense_mm(const torch::Tensor& a, const torch::Tensor& b);

/// x (B x in) times weight^T (weight: out x in) plus bias (out), like torch::nn::functional::linear.
torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace metadial::nn
