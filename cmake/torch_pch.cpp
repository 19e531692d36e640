// Anchor translation unit for the torch precompiled header.
#include "torch_pch.h"
