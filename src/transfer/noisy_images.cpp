#include "metadial/transfer/noisy_images.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/transfer/trainer.h"

namespace metadial::transfer {
namespace {

constexpr int64_t kClasses = 10;

// Rows `idx` of an image set, as a new image set.
IdxImages take(const IdxImages& all, const std::vector<int64_t>& idx) {
  IdxImages out;
  out.count = static_cast<int64_t>(idx.size());
  out.rows = all.rows;
  out.cols = all.cols;
  const auto pix = static_cast<size_t>(all.rows * all.cols);
  out.pixels.reserve(idx.size() * pix);
  out.labels.reserve(idx.size());
  for (int64_t i : idx) {
    const auto u = static_cast<size_t>(i);
    out.pixels.insert(out.pixels.end(), all.pixels.begin() + static_cast<std::ptrdiff_t>(u * pix),
                      all.pixels.begin() + static_cast<std::ptrdiff_t>((u + 1) * pix));
    out.labels.push_back(all.labels[u]);
  }
  return out;
}

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed);
  shuffle(p, rng);
  return p;
}

torch::Tensor pixels(const IdxImages& im) {
  MD_CHECK(im.count > 0, "noisy images: an empty split");
  torch::Tensor t = torch::from_blob(const_cast<uint8_t*>(im.pixels.data()), {im.count, im.rows * im.cols},
                                     torch::kUInt8);
  return t.to(torch::kFloat).div_(255.0);
}

torch::Tensor labels(const std::vector<uint8_t>& y) {
  return torch::from_blob(const_cast<uint8_t*>(y.data()), {static_cast<int64_t>(y.size())}, torch::kUInt8)
      .to(torch::kLong);
}

TensorDataset clean_set(const IdxImages& im) { return TensorDataset({{"x", pixels(im)}, {"y", labels(im.labels)}}); }

std::string first_existing(const std::string& base) {
  for (const std::string& candidate : {base + ".gz", base}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return base + ".gz";  // read_idx names it in its error
}

}  // namespace

std::string to_string(WeightImageInput w) {
  switch (w) {
    case WeightImageInput::kRaw: return "raw";
    case WeightImageInput::kCentred: return "centred";
    case WeightImageInput::kNone: return "none";
  }
  return "?";
}

WeightImageInput parse_weight_image_input(const std::string& name) {
  if (name == "raw") return WeightImageInput::kRaw;
  if (name == "centred") return WeightImageInput::kCentred;
  if (name == "none") return WeightImageInput::kNone;
  throw InvalidArgument("unknown weight input '" + name + "'; valid: raw, centred, none");
}

std::string to_string(Corruption c) { return c == Corruption::kShift ? "shift" : "uniform"; }

Corruption parse_corruption(const std::string& name) {
  if (name == "shift") return Corruption::kShift;
  if (name == "uniform") return Corruption::kUniform;
  throw InvalidArgument("unknown corruption '" + name + "'; valid: shift, uniform");
}

CorruptedLabels corrupt_labels(const std::vector<uint8_t>& labels, int num_classes, double wrong_fraction,
                               Corruption corruption, uint64_t seed) {
  MD_CHECK(num_classes >= 2, "corrupt_labels: ", num_classes, " classes, need >= 2 for a wrong label");
  MD_CHECK(wrong_fraction >= 0 && wrong_fraction <= 1, "corrupt_labels: fraction ", wrong_fraction,
           " not in [0, 1]");
  const auto n = static_cast<int64_t>(labels.size());
  Rng rng(derive_seed(seed, {0xC0}));
  const auto order = permutation(n, derive_seed(seed, {0xC1}));
  const auto n_wrong = static_cast<int64_t>(std::llround(wrong_fraction * static_cast<double>(n)));
  CorruptedLabels out{labels, std::vector<uint8_t>(labels.size(), 1)};
  for (int64_t i = 0; i < n_wrong; ++i) {
    const auto k = static_cast<size_t>(order[static_cast<size_t>(i)]);
    MD_CHECK(labels[k] < num_classes, "corrupt_labels: label ", int{labels[k]}, " at ", k, " not in [0, ",
             num_classes, ")");
    const int64_t offset =
        corruption == Corruption::kShift
            ? 1
            : 1 + std::min<int64_t>(static_cast<int64_t>(uniform01(rng) * (num_classes - 1)), num_classes - 2);
    out.labels[k] = static_cast<uint8_t>((labels[k] + offset) % num_classes);
    out.correct[k] = 0;
  }
  return out;
}

IdxImages load_mnist_format(const std::string& dir, const std::string& prefix) {
  MD_CHECK_AS(DataError, std::filesystem::is_directory(dir), "image data directory '", dir,
              "' does not exist (expected ", prefix, "-images-idx3-ubyte.gz and ", prefix, "-labels-idx1-ubyte.gz)");
  return read_idx_images(first_existing(dir + "/" + prefix + "-images-idx3-ubyte"),
                         first_existing(dir + "/" + prefix + "-labels-idx1-ubyte"), kClasses);
}

ImageSplit split_images(const IdxImages& all, int64_t n_train, int64_t n_val, int64_t n_test, uint64_t seed) {
  MD_CHECK(n_train >= 1 && n_val >= 1 && n_test >= 1 && n_train + n_val + n_test <= all.count,
           "split_images: sizes ", n_train, "/", n_val, "/", n_test, " must be >= 1 and sum to at most ", all.count);
  const auto p = permutation(all.count, seed);
  const auto at = [&](int64_t from, int64_t n) {
    return take(all, std::vector<int64_t>(p.begin() + from, p.begin() + from + n));
  };
  return {at(0, n_train), at(n_train, n_val), at(n_train + n_val, n_test)};
}

ImageSplit split_images(const IdxImages& pool, const IdxImages& test, int64_t n_train, int64_t n_val, uint64_t seed) {
  MD_CHECK(n_train >= 1 && n_val >= 1 && n_train + n_val <= pool.count, "split_images: sizes ", n_train, "/", n_val,
           " must be >= 1 and sum to at most ", pool.count);
  MD_CHECK(test.rows == pool.rows && test.cols == pool.cols, "split_images: test images are ", test.rows, "x",
           test.cols, ", training images ", pool.rows, "x", pool.cols);
  const auto p = permutation(pool.count, seed);
  ImageSplit s;
  s.train = take(pool, std::vector<int64_t>(p.begin(), p.begin() + n_train));
  s.validation = take(pool, std::vector<int64_t>(p.begin() + n_train, p.begin() + n_train + n_val));
  s.test = test;
  return s;
}

void NoisyImagesOptions::validate() const {
  trainer_.validate();
  MD_CHECK(wrong_fraction_ >= 0 && wrong_fraction_ <= 1, "noisy images option 'wrong_fraction': ", wrong_fraction_,
           ", must be in [0, 1]");
  MD_CHECK(record_every_ >= 0, "noisy images option 'record_every': ", record_every_, ", must be >= 0");
  MD_CHECK(record_every_ == 0 || record_every_ % trainer_.eval_every() == 0, "noisy images option 'record_every': ",
           record_every_, " must be a multiple of the trainer's eval_every (", trainer_.eval_every(), ")");
  MD_CHECK(histogram_bins_ >= 1, "noisy images option 'histogram_bins': ", histogram_bins_, ", must be >= 1");
  for (int64_t it : histogram_at_) {
    MD_CHECK(it >= 0 && (it == 0 || (record_every_ > 0 && it % record_every_ == 0)),
             "noisy images option 'histogram_at': iteration ", it, " must be 0 or a multiple of record_every (",
             record_every_, ")");
  }
}

NoisyImagesResult run_noisy_images(const ImageSplit& data, const NoisyImagesOptions& options) {
  options.validate();
  const auto t_start = std::chrono::steady_clock::now();
  const IdxImages& tr = data.train;
  MD_CHECK(data.validation.rows == tr.rows && data.validation.cols == tr.cols && data.test.rows == tr.rows &&
               data.test.cols == tr.cols,
           "noisy images: the splits' image sizes differ (train ", tr.rows, "x", tr.cols, ")");
  const int64_t n = tr.count;
  const int64_t inputs = tr.rows * tr.cols;

  const CorruptedLabels rel = corrupt_labels(tr.labels, kClasses, options.wrong_fraction(), options.corruption(),
                                             options.seed());
  std::vector<int64_t> flag(rel.correct.begin(), rel.correct.end());
  const auto n_wrong = static_cast<int64_t>(std::count(flag.begin(), flag.end(), 0));
  const std::vector<uint8_t>& y_rel = rel.labels;
  const torch::Tensor x = pixels(tr);
  const torch::Tensor flag_t = torch::tensor(flag, torch::kLong);
  TensorDataset primary({{"x", x}, {"y", labels(tr.labels)}});
  // P_eta's image input: the pixels, the pixels minus their mean, or one zero column.
  const WeightImageInput image_input = options.weight_input();
  const torch::Tensor wx = image_input == WeightImageInput::kRaw       ? x
                           : image_input == WeightImageInput::kCentred ? x - x.mean(0, /*keepdim=*/true)
                                                              : torch::zeros({n, 1}, x.options());
  TensorDataset related({{"x", x},
                         {"wx", wx},
                         {"y", labels(y_rel)},
                         {"flag", flag_t},
                         {"oracle_weight", flag_t.to(torch::kFloat)}});
  TensorDataset validation = clean_set(data.validation);
  TensorDataset test = clean_set(data.test);

  Classifier model(inputs, kClasses, /*hidden=*/0, /*heads=*/1, derive_seed(options.seed(), {0xA0}));
  PerceptronWeights p(wx.size(1), kClasses, /*flags=*/2, derive_seed(options.seed(), {0xA1}), "wx");
  MetaWeightTrainer trainer(model, &p, primary, &related, options.trainer());

  NoisyImagesResult res;
  res.related_incorrect = n_wrong;
  res.related_correct = n - n_wrong;
  const torch::Tensor is_correct = flag_t.to(torch::kBool);
  const bool can_record = options.record_every() > 0 && options.trainer().weighting() != Weighting::kRandomChanging &&
                          options.trainer().weighting() != Weighting::kNone;
  const Batch everyone = related.all();
  int64_t meta_updates_seen = 0;
  double meta_norm_seen = 0;
  auto record = [&](int64_t iteration) {
    if (!can_record || (iteration != 0 && iteration % options.record_every() != 0)) return;
    const torch::Tensor w = trainer.weights_for(everyone).to(torch::kDouble);
    const torch::Tensor wc = w.masked_select(is_correct);
    const torch::Tensor wi = w.masked_select(is_correct.logical_not());
    WeightSnapshot snap;
    snap.iteration = iteration;
    snap.mean_correct = wc.numel() > 0 ? wc.mean().item<double>() : 0.0;
    snap.mean_incorrect = wi.numel() > 0 ? wi.mean().item<double>() : 0.0;
    if (options.trainer().weighting() == Weighting::kLearned) {
      const auto parts = p.parts(everyone);
      const auto mean_of = [&](const torch::Tensor& t, bool correct) {
        const torch::Tensor v = t.to(torch::kDouble).masked_select(correct ? is_correct : is_correct.logical_not());
        return v.numel() > 0 ? v.mean().item<double>() : 0.0;
      };
      snap.input_correct = mean_of(parts.input, true);
      snap.input_incorrect = mean_of(parts.input, false);
      snap.label_correct = mean_of(parts.label, true);
      snap.label_incorrect = mean_of(parts.label, false);
      snap.flag_correct = mean_of(parts.flag, true);
      snap.flag_incorrect = mean_of(parts.flag, false);
      snap.bias = parts.bias.numel() > 0 ? parts.bias[0].item<double>() : 0.0;
      const StepStats& st = trainer.last_stats();
      const int64_t updates = st.meta_updates_done - meta_updates_seen;
      snap.meta_grad_norm = updates > 0 ? (st.meta_grad_norm_sum - meta_norm_seen) / static_cast<double>(updates) : 0.0;
      meta_updates_seen = st.meta_updates_done;
      meta_norm_seen = st.meta_grad_norm_sum;
    }
    res.weights.push_back(snap);
    if (std::find(options.histogram_at().begin(), options.histogram_at().end(), iteration) != options.histogram_at().end()) {
      const int64_t bins = options.histogram_bins();
      WeightHistogram h{iteration, std::vector<int64_t>(static_cast<size_t>(bins)),
                        std::vector<int64_t>(static_cast<size_t>(bins))};
      const torch::Tensor b = (w * static_cast<double>(bins)).floor().clamp(0, static_cast<double>(bins - 1)).to(torch::kLong);
      const auto* bp = b.data_ptr<int64_t>();
      const auto* cp = flag_t.data_ptr<int64_t>();
      for (int64_t i = 0; i < n; ++i) (cp[i] != 0 ? h.correct : h.incorrect)[static_cast<size_t>(bp[i])]++;
      res.histograms.push_back(std::move(h));
    }
  };
  record(0);
  const TrainResult tr_res = trainer.train(validation, [&](const EvalPoint& e) { record(e.iteration); });
  res.best_validation_accuracy = tr_res.best_validation;
  res.best_iteration = tr_res.best_iteration;
  res.step_seconds = tr_res.step_seconds;
  res.step_cpu_seconds = tr_res.step_cpu_seconds;
  res.test_accuracy = trainer.accuracy(test);
  res.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

}  // namespace metadial::transfer
