#include "metadial/online/image_target.h"

#include <cmath>
#include <filesystem>
#include <numeric>

#include <torch/torch.h>

#include "metadial/core/error.h"
#include "metadial/core/idx.h"
#include "metadial/core/random.h"
#include "metadial/nn/matmul.h"

namespace metadial::online {

struct ImageData::Impl {
  torch::Tensor x_train, y_train, x_val, y_val, x_test, y_test;
};

namespace {

std::string existing(const std::string& base) {
  for (const std::string& c : {base + ".gz", base}) {
    if (std::filesystem::exists(c)) return c;
  }
  return {};
}

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed);
  shuffle(p, rng);
  return p;
}

// Rows [from, from + n) of `order` of the images, as (x float in [0, 1], y long).
std::pair<torch::Tensor, torch::Tensor> take(const IdxImages& im, const std::vector<int64_t>& order, int64_t from,
                                             int64_t n) {
  const int64_t d = im.rows * im.cols;
  torch::Tensor x = torch::empty({n, d}, torch::kFloat);
  torch::Tensor y = torch::empty({n}, torch::kLong);
  float* xp = x.data_ptr<float>();
  int64_t* yp = y.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const auto src = static_cast<size_t>(order[static_cast<size_t>(from + i)]);
    const uint8_t* p = im.pixels.data() + src * static_cast<size_t>(d);
    for (int64_t j = 0; j < d; ++j) xp[i * d + j] = static_cast<float>(p[j]) / 255.0F;
    yp[i] = im.labels[src];
  }
  return {x, y};
}

constexpr int64_t kClasses = 10;

}  // namespace

ImageData::~ImageData() = default;
int64_t ImageData::train_count() const { return impl_->x_train.size(0); }
int64_t ImageData::validation_count() const { return impl_->x_val.size(0); }
int64_t ImageData::test_count() const { return impl_->x_test.size(0); }
int64_t ImageData::inputs() const { return impl_->x_train.size(1); }

std::shared_ptr<const ImageData> ImageData::load(const ImageDataOptions& o) {
  MD_CHECK(o.train >= 1 && o.validation >= 1 && o.test >= 1, "image data: train, validation and test sizes (", o.train,
           ", ", o.validation, ", ", o.test, ") must be >= 1");
  MD_CHECK_AS(DataError, std::filesystem::is_directory(o.dir), "image data folder '", o.dir,
              "' does not exist (expected IDX files t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz])");
  const std::string test_images = existing(o.dir + "/t10k-images-idx3-ubyte");
  const std::string test_labels = existing(o.dir + "/t10k-labels-idx1-ubyte");
  MD_CHECK_AS(DataError, !test_images.empty() && !test_labels.empty(), "image data folder '", o.dir,
              "' lacks t10k-images-idx3-ubyte[.gz] / t10k-labels-idx1-ubyte[.gz]");
  const IdxImages test = read_idx_images(test_images, test_labels, kClasses);
  std::shared_ptr<ImageData> out(new ImageData());
  out->impl_ = std::make_unique<Impl>();
  Impl& m = *out->impl_;
  const std::string train_images = existing(o.dir + "/train-images-idx3-ubyte");
  const std::string train_labels = existing(o.dir + "/train-labels-idx1-ubyte");
  if (!train_images.empty() && !train_labels.empty()) {
    const IdxImages pool = read_idx_images(train_images, train_labels, kClasses);
    MD_CHECK(o.train + o.validation <= pool.count, "image data '", o.dir, "': train + validation = ",
             o.train + o.validation, " but the training file has ", pool.count, " images");
    MD_CHECK(o.test <= test.count, "image data '", o.dir, "': test = ", o.test, " but the test file has ", test.count,
             " images");
    const auto p = permutation(pool.count, derive_seed(o.split_seed, {0x1D}));
    std::tie(m.x_train, m.y_train) = take(pool, p, 0, o.train);
    std::tie(m.x_val, m.y_val) = take(pool, p, o.train, o.validation);
    std::vector<int64_t> identity(static_cast<size_t>(test.count));
    std::iota(identity.begin(), identity.end(), 0);
    std::tie(m.x_test, m.y_test) = take(test, identity, 0, o.test);
  } else {
    MD_CHECK(o.train + o.validation + o.test <= test.count, "image data '", o.dir,
             "' has only a test file (", test.count, " images), fewer than train + validation + test = ",
             o.train + o.validation + o.test);
    const auto p = permutation(test.count, derive_seed(o.split_seed, {0x1D}));
    std::tie(m.x_train, m.y_train) = take(test, p, 0, o.train);
    std::tie(m.x_val, m.y_val) = take(test, p, o.train, o.validation);
    std::tie(m.x_test, m.y_test) = take(test, p, o.train + o.validation, o.test);
  }
  return out;
}

void check_image_tuple(const Tuple& t) {
  for (const auto& [name, v] : t) {
    if (name == "learning_rate") MD_CHECK(v > 0, "learning_rate ", v, " must be > 0");
    if (name == "momentum") MD_CHECK(v >= 0 && v < 1, "momentum ", v, " must be in [0, 1)");
    if (name == "weight_decay") MD_CHECK(v >= 0, "weight_decay ", v, " must be >= 0");
    if (name == "dropout") MD_CHECK(v >= 0 && v < 1, "dropout ", v, " must be in [0, 1)");
    if (name == "batch_size") MD_CHECK(v >= 1 && v == std::floor(v), "batch_size ", v, " must be an integer >= 1");
  }
}

void ImageClassifierOptions::validate() const {
  MD_CHECK(hidden >= 1, "image target option 'hidden': ", hidden, ", must be >= 1");
  for (const char* n : {"learning_rate", "momentum", "weight_decay", "dropout", "batch_size"}) {
    MD_CHECK(defaults.count(n) == 1, "image target: no default for '", n, "'");
  }
  MD_CHECK(defaults.size() == 5, "image target: defaults name a hyperparameter other than learning_rate, momentum, "
                                 "weight_decay, dropout, batch_size");
  check_image_tuple(defaults);
}

struct ImageClassifierTarget::Impl {
  std::shared_ptr<const ImageData> data;
  ImageClassifierOptions options;
  uint64_t seed = 0;
  int64_t steps = 0;
  int64_t calls = 0;
  Rng rng{0};
  std::vector<torch::Tensor> params;  // w1, b1, w2, b2
  std::vector<torch::Tensor> velocity;
  TargetStats stats;

  torch::Tensor forward(const torch::Tensor& x, double dropout, at::Generator* gen) const {
    torch::Tensor h = torch::relu(nn::dense_linear(x, params[0], params[1]));
    if (dropout > 0 && gen) {
      const torch::Tensor keep = torch::rand(h.sizes(), *gen, torch::kFloat).ge(dropout).to(torch::kFloat);
      h = h * keep / (1.0 - dropout);
    }
    return nn::dense_linear(h, params[2], params[3]);
  }

  void init(uint64_t s) {
    seed = s;
    steps = 0;
    calls = 0;
    rng = Rng(derive_seed(s, {0xDA7A}));
    const int64_t in = data->inputs();
    const int64_t hid = options.hidden;
    Rng wr(derive_seed(s, {0x3E1}));
    auto uniform = [&](std::vector<int64_t> shape, double bound) {
      torch::Tensor t = torch::empty(shape, torch::kFloat);
      float* p = t.data_ptr<float>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>((2 * uniform01(wr) - 1) * bound);
      return t.requires_grad_(true);
    };
    const double b1 = 1.0 / std::sqrt(static_cast<double>(in));
    const double b2 = 1.0 / std::sqrt(static_cast<double>(hid));
    params = {uniform({hid, in}, b1), uniform({hid}, b1), uniform({kClasses, hid}, b2), uniform({kClasses}, b2)};
    velocity.clear();
    for (const auto& p : params) velocity.push_back(torch::zeros_like(p));
    stats = {};
  }

  double evaluate(const torch::Tensor& x, const torch::Tensor& y, bool record) {
    torch::NoGradGuard ng;
    const torch::Tensor logits = forward(x, 0.0, nullptr);
    const double acc = logits.argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
    if (record) {
      const torch::Tensor lp = torch::log_softmax(logits, 1);
      const torch::Tensor p = lp.exp();
      stats.output_mean = logits.mean().item<double>();
      stats.output_std = logits.std().item<double>();
      stats.entropy = (-(p * lp).sum(1)).mean().item<double>();
      stats.max_prob = std::get<0>(p.max(1)).mean().item<double>();
    }
    return acc;
  }
};

ImageClassifierTarget::ImageClassifierTarget(std::shared_ptr<const ImageData> data, ImageClassifierOptions options)
    : impl_(std::make_unique<Impl>()) {
  MD_CHECK(data != nullptr, "image target: no data");
  options.validate();
  impl_->data = std::move(data);
  impl_->options = std::move(options);
  impl_->init(0);
}
ImageClassifierTarget::ImageClassifierTarget(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageClassifierTarget::~ImageClassifierTarget() = default;

std::string ImageClassifierTarget::name() const { return impl_->options.name; }
Tuple ImageClassifierTarget::defaults() const { return impl_->options.defaults; }
void ImageClassifierTarget::reset(uint64_t seed) { impl_->init(seed); }
int64_t ImageClassifierTarget::steps_done() const { return impl_->steps; }
TargetStats ImageClassifierTarget::stats() const { return impl_->stats; }

void ImageClassifierTarget::train(const Tuple& hp, int64_t steps) {
  MD_CHECK(steps >= 0, "image target: negative step count ", steps);
  const Tuple t = resolve(hp, impl_->options.defaults, name());
  check_image_tuple(t);
  Impl& m = *impl_;
  const double lr = t.at("learning_rate");
  const double mu = t.at("momentum");
  const double wd = t.at("weight_decay");
  const double dropout = t.at("dropout");
  const auto batch = static_cast<int64_t>(t.at("batch_size"));
  const ImageData::Impl& d = m.data->impl();
  const int64_t n = d.x_train.size(0);
  at::Generator gen = at::detail::createCPUGenerator(derive_seed(m.seed, {0xD0, static_cast<uint64_t>(m.calls)}));
  ++m.calls;
  double loss_sum = 0.0;
  torch::Tensor idx = torch::empty({batch}, torch::kLong);
  for (int64_t s = 0; s < steps; ++s) {
    int64_t* ip = idx.data_ptr<int64_t>();
    for (int64_t i = 0; i < batch; ++i) {
      ip[i] = std::min(static_cast<int64_t>(uniform01(m.rng) * static_cast<double>(n)), n - 1);
    }
    const torch::Tensor x = d.x_train.index_select(0, idx);
    const torch::Tensor y = d.y_train.index_select(0, idx);
    const torch::Tensor logits = m.forward(x, dropout, &gen);
    const torch::Tensor loss = torch::nll_loss(torch::log_softmax(logits, 1), y);
    const auto grads = torch::autograd::grad({loss}, m.params);
    {
      torch::NoGradGuard ng;
      for (size_t i = 0; i < m.params.size(); ++i) {
        torch::Tensor g = wd > 0 ? grads[i] + wd * m.params[i] : grads[i];
        m.velocity[i].mul_(mu).add_(g);
        m.params[i].sub_(lr * m.velocity[i]);
      }
    }
    loss_sum += loss.item<double>();
  }
  if (steps > 0) m.stats.recent_loss = loss_sum / static_cast<double>(steps);
  m.steps += steps;
}

double ImageClassifierTarget::validation_score() {
  const ImageData::Impl& d = impl_->data->impl();
  return impl_->evaluate(d.x_val, d.y_val, true);
}

double ImageClassifierTarget::test_score() {
  const ImageData::Impl& d = impl_->data->impl();
  return impl_->evaluate(d.x_test, d.y_test, false);
}

std::unique_ptr<Target> ImageClassifierTarget::clone() const {
  auto m = std::make_unique<Impl>(*impl_);
  m->params.clear();
  m->velocity.clear();
  for (const auto& p : impl_->params) m->params.push_back(p.detach().clone().requires_grad_(true));
  for (const auto& v : impl_->velocity) m->velocity.push_back(v.clone());
  return std::unique_ptr<Target>(new ImageClassifierTarget(std::move(m)));
}

}  // namespace metadial::online
