#include "metadial/transfer/options.h"

#include <array>

#include "metadial/core/error.h"

namespace metadial::transfer {
namespace {

constexpr std::array<std::pair<Weighting, const char*>, 6> kWeightings = {{
    {Weighting::kNone, "none"},
    {Weighting::kOnes, "ones"},
    {Weighting::kRandomFixed, "random-fixed"},
    {Weighting::kRandomChanging, "random-changing"},
    {Weighting::kOracle, "oracle"},
    {Weighting::kLearned, "learned"},
}};

constexpr std::array<std::pair<Method, const char*>, 9> kMethods = {{
    {Method::kPrimaryOnly, "primary-only"},
    {Method::kPretrainFinetune, "pretrain-finetune"},
    {Method::kJoint, "joint"},
    {Method::kMultiTask, "multi-task"},
    {Method::kOnes, "ones"},
    {Method::kRandomFixed, "random-fixed"},
    {Method::kRandomChanging, "random-changing"},
    {Method::kOracle, "oracle"},
    {Method::kLearned, "learned"},
}};

template <typename E, size_t N>
std::string name_of(const std::array<std::pair<E, const char*>, N>& table, E e) {
  for (const auto& [v, n] : table) {
    if (v == e) return n;
  }
  MD_ASSERT(false, "enum value without a name");
  return {};
}

template <typename E, size_t N>
E parse(const std::array<std::pair<E, const char*>, N>& table, std::string_view name, const char* what) {
  std::string valid;
  for (const auto& [v, n] : table) {
    if (name == n) return v;
    valid += valid.empty() ? "" : ", ";
    valid += n;
  }
  throw InvalidArgument(detail::concat("unknown ", what, " '", name, "'; valid: ", valid));
}

}  // namespace

std::string to_string(Weighting w) { return name_of(kWeightings, w); }
std::string to_string(Method m) { return name_of(kMethods, m); }
Weighting parse_weighting(std::string_view name) { return parse(kWeightings, name, "weighting"); }
Method parse_method(std::string_view name) { return parse(kMethods, name, "transfer method"); }

void TrainerOptions::validate() const {
  MD_CHECK(iterations_ >= 0, "transfer option 'iterations': ", iterations_, ", must be >= 0");
  MD_CHECK(batch_size_ >= 1, "transfer option 'batch_size': ", batch_size_, ", must be >= 1");
  MD_CHECK(pretrain_iterations_ >= 0 && pretrain_iterations_ <= iterations_,
           "transfer option 'pretrain_iterations': ", pretrain_iterations_, ", must be in [0, iterations = ",
           iterations_, "]");
  MD_CHECK(meta_updates_ >= 0, "transfer option 'meta_updates': ", meta_updates_, ", must be >= 0");
  MD_CHECK(simulated_steps_ >= 1, "transfer option 'simulated_steps': ", simulated_steps_, ", must be >= 1");
  MD_CHECK(model_lr_ > 0, "transfer option 'model_lr': ", model_lr_, ", must be > 0");
  MD_CHECK(weight_lr_ > 0, "transfer option 'weight_lr': ", weight_lr_, ", must be > 0");
  MD_CHECK(simulated_lr_ > 0, "transfer option 'simulated_lr': ", simulated_lr_, ", must be > 0");
  MD_CHECK(adam_eps_ > 0, "transfer option 'adam_eps': ", adam_eps_, ", must be > 0");
  MD_CHECK(weight_adam_eps_ >= 0, "transfer option 'weight_adam_eps': ", weight_adam_eps_, ", must be >= 0 (0: adam_eps)");
  MD_CHECK(eval_every_ >= 1, "transfer option 'eval_every': ", eval_every_, ", must be >= 1");
  MD_CHECK(primary_step_ || weighting_ != Weighting::kNone || pretrain_iterations_ > 0,
           "transfer options: no primary step and no related data (weighting 'none'): nothing to train on");
}

TrainerOptions with_method(TrainerOptions base, Method m, bool auxiliary) {
  const int64_t pretrain = base.pretrain_iterations();
  TrainerOptions o = base;
  o.pretrain_iterations(0).separate_related_head(false);
  switch (m) {
    case Method::kPrimaryOnly:
      return o.primary_step(true).weighting(Weighting::kNone);
    case Method::kPretrainFinetune:
      return o.primary_step(true)
          .weighting(Weighting::kNone)
          .pretrain_iterations(pretrain > 0 ? pretrain : o.iterations() / 2);
    case Method::kJoint:
      return o.primary_step(true).weighting(Weighting::kOnes);
    case Method::kMultiTask:
      return o.primary_step(true).weighting(Weighting::kOnes).separate_related_head(true);
    case Method::kOnes:
      return o.weighting(Weighting::kOnes).separate_related_head(auxiliary);
    case Method::kRandomFixed:
      return o.weighting(Weighting::kRandomFixed).separate_related_head(auxiliary);
    case Method::kRandomChanging:
      return o.weighting(Weighting::kRandomChanging).separate_related_head(auxiliary);
    case Method::kOracle:
      return o.weighting(Weighting::kOracle).separate_related_head(auxiliary);
    case Method::kLearned:
      return o.weighting(Weighting::kLearned).separate_related_head(auxiliary);
  }
  MD_ASSERT(false, "unhandled method");
  return o;
}

}  // namespace metadial::transfer
