#include "cli/data_commands.h"

#include <fmt/format.h>

#include "metadial/core/data.h"

namespace metadial::cli {

void declare_data_personalize(CLI::App& c, DataPersonalizeArgs& a) {
  auto& o = a.options;
  c.add_option("--task", o.task, "personalized bAbI task to generate (only 3)")->required();
  c.add_option("--babi", o.babi_dir,
               "bAbI dialog folder with dialog-babi-task3-options-*.txt (default: babi-dialog/ in the data folder)");
  c.add_option("--kb", o.kb_file,
               "personalized knowledge base (default: personalized-dialog/full/personalized-dialog-kb-all.txt in the "
               "data folder)");
  c.add_option("--out", o.out_dir, "output folder (new, empty, or holding only a previous run's files)")->required();
  c.add_option("--seed", o.seed, "seed of every random draw (same seed, same files)");
  c.add_flag("--small", o.small, "the small set: one profile per dialogue (1000 dialogues a split)");
  c.add_option("--accept-probability", o.accept_probability,
               "probability that the user accepts an offer that is not the last (published: 0.25)");
}

int run_data_personalize(const DataPersonalizeArgs& a, std::ostream& out) {
  transfer::PersonalizeOptions o = a.options;
  if (o.babi_dir.empty()) o.babi_dir = data_set_dir("babi-dialog");
  if (o.kb_file.empty()) o.kb_file = data_set_dir("personalized-dialog") + "/full/personalized-dialog-kb-all.txt";
  for (const auto& f : transfer::generate_personalized(o)) {
    if (f.split == "candidates")
      out << fmt::format("{:<10} {:>6} candidates         {}\n", f.split, f.responses, f.path);
    else
      out << fmt::format("{:<10} {:>6} dialogues {:>7} responses  {}\n", f.split, f.dialogs, f.responses, f.path);
  }
  return 0;
}

}  // namespace metadial::cli
