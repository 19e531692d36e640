// `metadial data personalize --task 3 --babi DIR --kb FILE --out DIR --seed S [--small]`: generates
// personalized bAbI dialog task 3 (train, dev, test, test-OOV and the candidate list) from bAbI
// task 3 and the personalized knowledge base, by the published construction
// (transfer/personalize.h). Bad input (missing or malformed files, a KB without R_type or
// R_speciality, an output folder holding other files) is one line and exit 2.
#pragma once

#include <ostream>

#include <CLI/CLI.hpp>

#include "metadial/transfer/personalize.h"

namespace metadial::cli {

struct DataPersonalizeArgs {
  transfer::PersonalizeOptions options;
};

/// Flags of `data personalize`.
void declare_data_personalize(CLI::App& command, DataPersonalizeArgs& args);

/// Writes the files and prints one line per file (split, dialogues, responses, path).
int run_data_personalize(const DataPersonalizeArgs& args, std::ostream& out);

}  // namespace metadial::cli
