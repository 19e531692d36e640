#include "metadial/optim/bohb_sampler.h"
#include "metadial/optim/gp_sampler.h"
#include "metadial/optim/lhs_sampler.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/optim/sampler.h"
#include "metadial/optim/sobol_sampler.h"
#include "metadial/optim/tpe_sampler.h"

namespace metadial::optim {

void register_builtin_samplers(SamplerRegistry& registry) {
  registry.add("random", &RandomSampler::create);
  registry.add("sobol", &SobolSampler::create);
  registry.add("lhs", &LhsSampler::create);
  registry.add("gp", &GpSampler::create);
  registry.add("tpe", &TpeSampler::create);
  registry.add("bohb", &BohbSampler::create);
}

}  // namespace metadial::optim
