#include "metadial/nn/init.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "metadial/core/error.h"
#include "support/torch_state.h"

namespace metadial::nn {
namespace {

using metadial::testing::global_generator_state;

// A small network with every kind of layer reset_parameters() knows, nested one level.
struct ToyImpl : torch::nn::Module {
  ToyImpl() {
    embed = register_module("embed", torch::nn::Embedding(20, 6));
    lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(6, 5)));
    cell = register_module("cell", torch::nn::LSTMCell(5, 4));
    head = register_module("head", torch::nn::Sequential(torch::nn::Linear(4, 3), torch::nn::ReLU(),
                                                         torch::nn::Dropout(0.5), torch::nn::Linear(3, 2)));
  }
  torch::nn::Embedding embed{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::LSTMCell cell{nullptr};
  torch::nn::Sequential head{nullptr};
};
TORCH_MODULE(Toy);

Toy toy(uint64_t seed) {
  Toy t;
  Rng rng(seed);
  reset_parameters(t, rng);
  return t;
}

bool same_weights(const Toy& a, const Toy& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  if (pa.size() != pb.size()) return false;
  for (const auto& p : pa) {
    if (!torch::equal(p.value(), pb[p.key()])) return false;
  }
  return true;
}

TEST(ResetParameters, SameSeedSameWeightsOtherSeedOther) {
  torch::manual_seed(1);
  const Toy a = toy(7);
  torch::manual_seed(2);  // another global state: the weights must not depend on it
  const Toy b = toy(7);
  EXPECT_TRUE(same_weights(a, b));
  EXPECT_FALSE(same_weights(a, toy(8)));
}

TEST(ResetParameters, LeavesTorchsGlobalGeneratorAlone) {
  torch::manual_seed(3);
  const torch::Tensor before = global_generator_state();
  Toy t;  // LibTorch's own initialization draws from the global generator...
  EXPECT_FALSE(torch::equal(before, global_generator_state()));
  torch::manual_seed(3);
  Rng rng(1);
  reset_parameters(t, rng);  // ...reset_parameters() does not
  EXPECT_TRUE(torch::equal(before, global_generator_state()));
}

TEST(BuildModule, PutsTheGlobalGeneratorBackAndReturnsTheModule) {
  torch::manual_seed(4);
  const torch::Tensor before = global_generator_state();
  const Toy t = build_module([] { return Toy(); });  // Toy's constructors draw from the global generator
  EXPECT_TRUE(torch::equal(before, global_generator_state()));
  EXPECT_EQ(t->embed->weight.size(0), 20);
  int built = 0;
  build_module([&] { built = 1; });  // void builds are fine
  EXPECT_EQ(built, 1);
  EXPECT_THROW(build_module([]() -> Toy { throw InvalidArgument("no"); }), InvalidArgument);
  EXPECT_TRUE(torch::equal(before, global_generator_state()));
}

TEST(ResetParameters, DrawsLibTorchsDefaultDistributions) {
  torch::nn::Linear linear(50, 7);
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(3, 16));
  torch::nn::Embedding embed(200, 50);
  Rng rng(4);
  reset_parameters(linear, rng);
  reset_parameters(lstm, rng);
  reset_parameters(embed, rng);
  // Linear: U(+-1/sqrt(in_features)) for weight and bias; LSTM: U(+-1/sqrt(hidden)).
  // (The tensors checked for filling their range have at least 64 elements.)
  const double b_linear = 1 / std::sqrt(50.0);
  EXPECT_LE(linear->bias.abs().max().item<double>(), b_linear);
  for (const auto& [p, bound] : {std::pair{linear->weight, b_linear}, std::pair{lstm->parameters()[0], 0.25},
                                 std::pair{lstm->parameters()[3], 0.25}}) {
    EXPECT_LE(p.abs().max().item<double>(), bound);
    EXPECT_GT(p.abs().max().item<double>(), 0.8 * bound);
    EXPECT_TRUE(p.requires_grad());
  }
  // Embedding: N(0, 1) (10000 draws: mean within 0.05, sd within 0.05 of 1).
  EXPECT_NEAR(embed->weight.mean().item<double>(), 0.0, 0.05);
  EXPECT_NEAR(embed->weight.std().item<double>(), 1.0, 0.05);
}

// The draw order is part of the contract (models trained before the helper existed keep their
// initial weights): one uniform01() per element, module by module, parameter by parameter.
TEST(ResetParameters, DrawsInRegistrationOrderOneUniformPerElement) {
  torch::nn::Linear linear(3, 2);
  Rng rng(9);
  reset_parameters(linear, rng);
  Rng want(9);
  const double bound = 1 / std::sqrt(3.0);
  auto next = [&] { return static_cast<float>((2.0 * uniform01(want) - 1.0) * bound); };
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(linear->weight[i][j].item<float>(), next());
  }
  for (int64_t i = 0; i < 2; ++i) EXPECT_EQ(linear->bias[i].item<float>(), next());
}

// optim/hyprl and optim/learned initialized their networks by hand before reset_parameters()
// existed (named_parameters() in order, LSTM weights U(+-1/sqrt(hidden)), Linear U(+-1/sqrt(in)),
// one uniform01() per element); reset_parameters() reproduces that exactly, so their seeds give the
// same networks as before.
struct FormerImpl : torch::nn::Module {
  FormerImpl() {
    lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(5, 6)));
    cell = register_module("cell", torch::nn::LSTMCell(3, 4));
    fc1 = register_module("fc1", torch::nn::Linear(7, 8));
    fc2 = register_module("fc2", torch::nn::Linear(8, 2));
  }
  torch::nn::LSTM lstm{nullptr};
  torch::nn::LSTMCell cell{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Former);

TEST(ResetParameters, MatchesTheHandWrittenInitItReplaced) {
  Former a, b;
  Rng rng(21);
  reset_parameters(a, rng);
  torch::NoGradGuard no_grad;
  Rng old(21);
  for (auto& p : b->named_parameters()) {
    const std::string& name = p.key();
    double fan_in = 6;                                                     // lstm: hidden
    if (name.rfind("cell", 0) == 0) fan_in = 4;                            // cell: hidden
    if (name.rfind("fc1", 0) == 0) fan_in = 7;                             // in_features
    if (name.rfind("fc2", 0) == 0) fan_in = 8;
    const double bound = 1.0 / std::sqrt(fan_in);
    torch::Tensor t = p.value();
    std::vector<float> values(static_cast<size_t>(t.numel()));
    for (auto& v : values) v = static_cast<float>((2.0 * uniform01(old) - 1.0) * bound);
    t.copy_(torch::from_blob(values.data(), t.sizes(), torch::kFloat32));
  }
  for (const auto& p : a->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), b->named_parameters()[p.key()])) << p.key();
  }
}

TEST(ResetParameters, UniformFillsAViewInPlace) {
  torch::Tensor t = torch::zeros({3, 4});
  Rng rng(5);
  uniform_(t.slice(0, 0, 1), 0.1, rng);
  EXPECT_GT(t[0].abs().sum().item<double>(), 0.0);
  EXPECT_LE(t.abs().max().item<double>(), 0.1);
  EXPECT_EQ(t.slice(0, 1).abs().sum().item<double>(), 0.0);
}

struct OwnParameterImpl : torch::nn::Module {
  OwnParameterImpl() { register_parameter("w", torch::zeros({2})); }
};
TORCH_MODULE(OwnParameter);

TEST(ResetParameters, RejectsParametersOfAKindItDoesNotKnow) {
  Rng rng(1);
  OwnParameter own;
  EXPECT_THROW(reset_parameters(own, rng), InvalidArgument);
  torch::nn::Conv1d conv(torch::nn::Conv1dOptions(2, 3, 3));
  try {
    reset_parameters(conv, rng);
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("initialize them explicitly"), std::string::npos) << e.what();
  }
  torch::nn::Dropout no_parameters(0.5);
  EXPECT_NO_THROW(reset_parameters(no_parameters, rng));
}

}  // namespace
}  // namespace metadial::nn
