// Experiment 2's pieces on tiny hand-made dialogue files, and `metadial transfer run` configs
// for both experiments (good runs and bad input).
#include "metadial/transfer/dialog.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/transfer_commands.h"
#include "metadial/core/error.h"
#include "metadial/core/idx.h"
#include "metadial/core/random.h"

namespace fs = std::filesystem;
using namespace metadial;
using namespace metadial::transfer;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("metadial_transfer_dialog_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// bAbI-format dialogues: a greeting, then the user names a cuisine and the bot confirms it
// (the response follows from the user's words). `style` prefixes the bot's words, so that the
// primary ("p") and related ("r") tasks share the structure but not the exact responses.
std::string dialogues(int n, uint64_t seed, const std::string& style, bool profile) {
  const char* cuisines[] = {"thai", "french", "indian", "italian"};
  Rng rng(seed);
  std::ostringstream out;
  for (int d = 0; d < n; ++d) {
    int id = 1;
    if (profile) out << id++ << " female young\n";
    out << id++ << " hello\t" << style << " how can i help\n";
    const char* c = cuisines[static_cast<int>(uniform01(rng) * 4)];
    out << id++ << " i want " << c << " food\t" << style << " ok " << c << "\n";
    out << id++ << " <SILENCE>\tapi_call " << c << "\n";
  }
  return out.str();
}

struct Files {
  std::string train, dev, test, related;
};

Files write_files(const fs::path& dir) {
  Files f{(dir / "p-trn.txt").string(), (dir / "p-dev.txt").string(), (dir / "p-tst.txt").string(),
          (dir / "r-trn.txt").string()};
  std::ofstream(f.train) << dialogues(40, 1, "hey girl", true);
  std::ofstream(f.dev) << dialogues(40, 2, "hey girl", true);
  std::ofstream(f.test) << dialogues(40, 3, "hey girl", true);
  std::ofstream(f.related) << dialogues(60, 4, "hello", false);
  return f;
}

DialogTransferOptions small_options(const Files& f) {
  DialogTransferOptions o;
  o.primary_train(f.train).primary_validation(f.dev).primary_test(f.test).related_train(f.related);
  o.primary_dialogs(20).related_dialogs(-1).memory_size(10).embedding(10);
  TrainerOptions t = o.trainer();
  o.trainer(t.iterations(150).eval_every(50).model_lr(0.01).meta_updates(1).simulated_steps(2));
  return o;
}

std::string run_cli(const std::string& toml_text, const std::string& name) {
  const fs::path cfg = temp_dir("cfg_" + name) / "c.toml";
  std::ofstream(cfg) << toml_text;
  std::ostringstream out;
  cli::run_transfer({cfg.string(), true}, out);
  return out.str();
}

template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error of the expected type>";
}

}  // namespace

TEST(DialogTransfer, PrimaryOnlyLearnsTheTinyTaskAndCountsTheData) {
  const Files f = write_files(temp_dir("primary"));
  DialogTransferOptions o = small_options(f);
  o.trainer(with_method(o.trainer(), Method::kPrimaryOnly));
  const DialogTransferData data(o);
  const DialogTransferResult r = run_dialog_transfer(data, o);
  EXPECT_EQ(r.primary_examples, 20 * 3);     // three bot responses per dialogue
  EXPECT_EQ(r.validation_examples, 20 * 3);
  EXPECT_EQ(r.test_examples, 40 * 3);
  EXPECT_EQ(r.related_examples, 60 * 3);
  // Responses: "hey girl how can i help", 4 x "hey girl ok <c>", 4 x "api_call <c>", "hello how can i help",
  // 4 x "hello ok <c>".
  EXPECT_EQ(r.candidates, 14);
  EXPECT_GE(r.test_accuracy, 0.95);
  EXPECT_TRUE(r.weight_histogram.empty());
}

TEST(DialogTransfer, LearnedWeightsGiveAHistogramOverEveryRelatedExample) {
  const Files f = write_files(temp_dir("learned"));
  DialogTransferOptions o = small_options(f);
  o.trainer(with_method(o.trainer(), Method::kLearned, /*auxiliary=*/true));
  const DialogTransferData data(o);
  const DialogTransferResult r = run_dialog_transfer(data, o);
  ASSERT_EQ(r.weight_histogram.size(), 10u);
  EXPECT_EQ(std::accumulate(r.weight_histogram.begin(), r.weight_histogram.end(), int64_t{0}), r.related_examples);
  EXPECT_GT(r.mean_weight, 0.0);
  EXPECT_LT(r.mean_weight, 1.0);
  EXPECT_GE(r.test_accuracy, 0.9);
  // Same seeds, same run.
  const DialogTransferResult again = run_dialog_transfer(data, o);
  EXPECT_DOUBLE_EQ(again.test_accuracy, r.test_accuracy);
  EXPECT_DOUBLE_EQ(again.mean_weight, r.mean_weight);
  // No related response offers a restaurant here: every example is an "other" turn.
  EXPECT_EQ(r.related_offer_examples, 0);
  EXPECT_NEAR(r.mean_weight_other, r.mean_weight, 1e-12);
}

TEST(DialogTransfer, OfferTurnsOfTheRelatedTaskAreCountedAndWeightedApart) {
  const fs::path dir = temp_dir("offers");
  Files f = write_files(dir);
  // Related dialogues: a greeting, then one offer ("what do you think of this option: ...").
  std::ostringstream rel;
  for (int d = 0; d < 30; ++d)
    rel << "1 hello\thello how can i help\n2 <SILENCE>\twhat do you think of this option: resto_" << d % 3 << "\n";
  std::ofstream((dir / "r-offers.txt").string()) << rel.str();
  f.related = (dir / "r-offers.txt").string();
  DialogTransferOptions o = small_options(f);
  o.trainer(with_method(o.trainer(), Method::kLearned, /*auxiliary=*/true).iterations(50));
  const DialogTransferData data(o);
  const DialogTransferResult r = run_dialog_transfer(data, o);
  EXPECT_EQ(r.related_examples, 60);
  EXPECT_EQ(r.related_offer_examples, 30);
  EXPECT_NEAR(r.mean_weight, (r.mean_weight_offer + r.mean_weight_other) / 2, 1e-9);
}

TEST(DialogTransfer, MalformedDialogueFileIsNamedWithItsLine) {
  const fs::path dir = temp_dir("bad");
  Files f = write_files(dir);
  std::ofstream(f.related) << "1 hello\thi\n2 x\ty\nthree\tz\n";
  const std::string msg = error_of<DataError>([&] { DialogTransferData d(small_options(f)); });
  EXPECT_NE(msg.find("r-trn.txt:3: malformed line"), std::string::npos) << msg;
}

TEST(TransferRunCommand, RejectsUnknownKeysAndBadValuesNamingFileAndLine) {
  const std::string unknown = error_of<ConfigError>(
      [] { run_cli("[experiment]\nkind = \"dialog\"\n[trainer]\niterations = 5\nbogus = 1\n", "unknown"); });
  EXPECT_NE(unknown.find("c.toml:5: unknown key 'bogus' in [trainer]"), std::string::npos) << unknown;
  const std::string kind = error_of<ConfigError>([] { run_cli("[experiment]\nkind = \"images\"\n", "kind"); });
  EXPECT_NE(kind.find("c.toml:2: [experiment] kind 'images' is unknown"), std::string::npos) << kind;
  const std::string type = error_of<ConfigError>(
      [] { run_cli("[experiment]\nkind = \"dialog\"\n[trainer]\niterations = \"many\"\n", "type"); });
  EXPECT_NE(type.find("c.toml:4: [trainer] iterations must be an integer, got a string"), std::string::npos) << type;
  const std::string method = error_of<ConfigError>(
      [] { run_cli("[experiment]\nkind = \"dialog\"\nmethod = \"best\"\n", "method"); });
  EXPECT_NE(method.find("c.toml:3:"), std::string::npos) << method;
  const std::string section = error_of<ConfigError>([] { run_cli("[experiment]\nkind = \"dialog\"\n[extra]\n", "section"); });
  EXPECT_NE(section.find("c.toml:3: unknown key 'extra' in the top level (expected one of: dialog, experiment, noisy_images, trainer)"), std::string::npos) << section;
  // Issue 19's settings of P_eta's input and eta's optimizer are config keys too.
  const std::string input = error_of<ConfigError>([] {
    run_cli("[experiment]\nkind = \"noisy-images\"\n[noisy_images]\ndata = \"/nowhere\"\nweight_input = \"sideways\"\n",
            "input");
  });
  EXPECT_NE(input.find("c.toml:5:"), std::string::npos) << input;
  EXPECT_NE(input.find("centred"), std::string::npos) << input;
  const std::string flag = error_of<ConfigError>([] {
    run_cli("[experiment]\nkind = \"dialog\"\n[trainer]\nnormalize_weights = 1\n", "flag");
  });
  EXPECT_NE(flag.find("c.toml:4: [trainer] normalize_weights must be a boolean"), std::string::npos) << flag;
}

TEST(TransferRunCommand, RejectsIdxFilesWithAWrongMagicNumberOrTruncated) {
  const fs::path dir = temp_dir("idx");
  IdxArray images{{20, 28, 28}, std::vector<uint8_t>(20 * 28 * 28, 7)};
  IdxArray labels{{20}, std::vector<uint8_t>(20, 3)};
  write_idx((dir / "t10k-images-idx3-ubyte").string(), images, false);
  write_idx((dir / "t10k-labels-idx1-ubyte").string(), labels, false);
  const std::string cfg = "[experiment]\nkind = \"noisy-images\"\n[noisy_images]\ndata = \"" + dir.string() +
                          "\"\ntrain = 10\nvalidation = 5\ntest = 5\n[trainer]\niterations = 2\n";
  {  // wrong magic: 0x00000804 instead of 0x00000803
    std::fstream io(dir / "t10k-images-idx3-ubyte", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(3);
    io.put(static_cast<char>(0x04));
  }
  const std::string magic = error_of<DataError>([&] { run_cli(cfg, "magic"); });
  EXPECT_NE(magic.find("t10k-images-idx3-ubyte"), std::string::npos) << magic;
  EXPECT_NE(magic.find("magic"), std::string::npos) << magic;
  write_idx((dir / "t10k-images-idx3-ubyte").string(), images, false);
  fs::resize_file(dir / "t10k-images-idx3-ubyte", 16 + 28 * 28 * 10);  // half the pixels
  const std::string truncated = error_of<DataError>([&] { run_cli(cfg, "truncated"); });
  EXPECT_NE(truncated.find("t10k-images-idx3-ubyte"), std::string::npos) << truncated;
}

TEST(TransferRunCommand, RunsTheNoisyImageExperimentFromAConfig) {
  // Ten separable classes: class c lights row c of the image. Oracle weights keep only the
  // correct related labels, so the logistic regression learns them all.
  const fs::path dir = temp_dir("images");
  const int n = 800;
  IdxArray images{{n, 28, 28}, std::vector<uint8_t>(static_cast<size_t>(n) * 28 * 28, 0)};
  IdxArray labels{{n}, std::vector<uint8_t>(n, 0)};
  for (int i = 0; i < n; ++i) {
    const int c = i % 10;
    labels.data[static_cast<size_t>(i)] = static_cast<uint8_t>(c);
    for (int x = 0; x < 28; ++x) images.data[static_cast<size_t>(i) * 784 + static_cast<size_t>(c * 28 + x)] = 255;
  }
  write_idx((dir / "t10k-images-idx3-ubyte").string(), images, false);
  write_idx((dir / "t10k-labels-idx1-ubyte").string(), labels, false);
  const std::string out = run_cli("[experiment]\nkind = \"noisy-images\"\nmethod = \"oracle\"\nseeds = [0, 1]\n"
                                  "[noisy_images]\ndata = \"" + dir.string() +
                                  "\"\ntrain = 600\nvalidation = 100\ntest = 100\n"
                                  "[trainer]\niterations = 300\nbatch_size = 32\nmodel_lr = 0.01\neval_every = 50\n",
                                  "images");
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["kind"], "noisy-images");
  EXPECT_EQ(j["method"], "oracle");
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_GE(j["test_mean"].get<double>(), 0.95);
}

TEST(TransferRunCommand, RunsTheDialogueExperimentFromAConfig) {
  const Files f = write_files(temp_dir("dialog_cli"));
  const std::string out = run_cli("[experiment]\nkind = \"dialog\"\nmethod = \"multi-task\"\n"
                                  "[trainer]\niterations = 150\neval_every = 50\nmodel_lr = 0.01\n"
                                  "[dialog]\nprimary_train = \"" + f.train + "\"\nprimary_validation = \"" + f.dev +
                                  "\"\nprimary_test = \"" + f.test + "\"\nrelated_train = \"" + f.related +
                                  "\"\nprimary_dialogs = 20\nrelated_dialogs = -1\nmemory_size = 10\nembedding = 10\n",
                                  "dialog");
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["method"], "multi-task");
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["related_examples"], 180);
  EXPECT_GE(j["test_mean"].get<double>(), 0.95);
}
