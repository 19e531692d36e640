// Precompiled header shared by every target that calls metadial_use_torch().
#pragma once
#include <torch/torch.h>
