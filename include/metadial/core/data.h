// The data folder: where the public data sets the commands read live (bAbI dialog, personalized
// bAbI, sim-M, MNIST, the HPO meta-data), each in its own sub-folder with its published layout
// (data/README.md lists them; scripts/fetch-data downloads them). Chosen, in order, by a
// command's --data flag, the METADIAL_DATA environment variable, or the default
// $XDG_DATA_HOME/metadial (~/.local/share/metadial when XDG_DATA_HOME is unset).
#pragma once

#include <string>

namespace metadial {

/// The data folder: `flag` if not empty, else $METADIAL_DATA, else the default above.
std::string data_dir(const std::string& flag = "");

/// The folder of one data set (e.g. "babi-dialog") inside data_dir(flag).
std::string data_set_dir(const std::string& data_set, const std::string& flag = "");

}  // namespace metadial
