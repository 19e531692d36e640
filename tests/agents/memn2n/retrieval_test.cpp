#include "metadial/agents/memn2n/retrieval.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/memn2n_commands.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "nn/model_file_testing.h"

namespace fs = std::filesystem;
namespace mm = metadial::agents::memn2n;

namespace {

// The bot repeats the city the user asked for two turns earlier (needs the memory).
std::string city_dialogs(int n, uint64_t seed) {
  const char* cities[] = {"paris", "rome", "london", "madrid", "tokyo"};
  metadial::Rng rng(seed);
  std::ostringstream out;
  for (int d = 0; d < n; ++d) {
    const char* c = cities[static_cast<int>(metadial::uniform01(rng) * 5)];
    out << "1 a table in " << c << "\tsure\n2 for two\tnoted\n3 <SILENCE>\tapi_call " << c << "\n";
  }
  return out.str();
}

}  // namespace

TEST(Retrieval, TrainSavesAModelThatEvaluatesToTheSameTestAccuracy) {
  const fs::path dir = fs::temp_directory_path() / "metadial_memn2n_retrieval";
  fs::create_directories(dir);
  std::ofstream(dir / "trn.txt") << city_dialogs(200, 1);
  std::ofstream(dir / "dev.txt") << city_dialogs(50, 2);
  std::ofstream(dir / "tst.txt") << city_dialogs(50, 3);
  std::ofstream(dir / "cands.txt")
      << "1 sure\n1 noted\n1 api_call paris\n1 api_call rome\n1 api_call london\n1 api_call madrid\n1 api_call tokyo\n";
  mm::RetrievalTrainOptions o;
  o.train = (dir / "trn.txt").string();
  o.validation = (dir / "dev.txt").string();
  o.test = (dir / "tst.txt").string();
  o.candidates = (dir / "cands.txt").string();
  o.epochs = 12;
  o.memory_size = 10;
  o.model_out = (dir / "model.pt").string();
  int epochs_seen = 0;
  const auto r = mm::train_retrieval(o, [&](int64_t, double, double) { ++epochs_seen; });
  EXPECT_EQ(epochs_seen, 12);
  EXPECT_EQ(r.train_examples, 600);
  EXPECT_EQ(r.candidates, 7);
  EXPECT_GE(r.test_accuracy, 0.97);
  const auto e = mm::evaluate_retrieval(o.model_out, o.test);
  EXPECT_EQ(e.responses, 150);
  EXPECT_DOUBLE_EQ(e.accuracy, r.test_accuracy);

  // A response missing from the candidates is named with its file and line.
  std::ofstream(dir / "odd.txt") << "1 hi\tsure\n2 <SILENCE>\tapi_call berlin\n";
  try {
    mm::evaluate_retrieval(o.model_out, (dir / "odd.txt").string());
    FAIL() << "no DataError";
  } catch (const metadial::DataError& err) {
    EXPECT_NE(std::string(err.what()).find("odd.txt:2: response 'api_call berlin' is not among the 7 candidates"),
              std::string::npos)
        << err.what();
  }
  // A file that is not a model.
  std::ofstream(dir / "junk.pt") << "not a model";
  EXPECT_THROW(mm::evaluate_retrieval((dir / "junk.pt").string(), o.test), metadial::DataError);
  // 64 random bytes written into the parameters, or a header claiming a huge embedding: one
  // DataError naming the file (the old LibTorch archive loaded the altered weights).
  const std::string corrupt = (dir / "corrupt.pt").string();
  fs::copy_file(o.model_out, corrupt, fs::copy_options::overwrite_existing);
  metadial::testing::scramble_parameters(corrupt);
  try {
    mm::evaluate_retrieval(corrupt, o.test);
    FAIL() << "no DataError";
  } catch (const metadial::DataError& err) {
    EXPECT_NE(std::string(err.what()).find("'" + corrupt + "': corrupt model parameters (checksum mismatch"),
              std::string::npos)
        << err.what();
  }
  fs::copy_file(o.model_out, corrupt, fs::copy_options::overwrite_existing);
  metadial::testing::edit_model_header(corrupt, [](nlohmann::json& h) { h["embedding"] = 3000000000LL; });
  try {
    mm::evaluate_retrieval(corrupt, o.test);
    FAIL() << "no DataError";
  } catch (const metadial::DataError& err) {
    EXPECT_NE(std::string(err.what()).find("the network its header describes"), std::string::npos) << err.what();
  }
}

namespace {

// A folder with the city task's files (trn, dev, tst, cands) and `extra` files (name, text).
fs::path city_folder(const std::string& name, const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  const fs::path dir = fs::temp_directory_path() / ("metadial_memn2n_" + name);
  fs::create_directories(dir);
  std::ofstream(dir / "trn.txt") << city_dialogs(20, 1);
  std::ofstream(dir / "dev.txt") << city_dialogs(10, 2);
  std::ofstream(dir / "tst.txt") << city_dialogs(10, 3);
  std::ofstream(dir / "cands.txt")
      << "1 sure\n1 noted\n1 api_call paris\n1 api_call rome\n1 api_call london\n1 api_call madrid\n1 api_call tokyo\n";
  for (const auto& [file, text] : extra) std::ofstream(dir / file) << text;
  return dir;
}

metadial::cli::Memn2nTrainArgs train_args(const fs::path& dir, const std::string& train = "trn.txt") {
  metadial::cli::Memn2nTrainArgs a;
  a.train = (dir / train).string();
  a.dev = (dir / "dev.txt").string();
  a.candidates = (dir / "cands.txt").string();
  a.epochs = 1;
  a.memory = 5;
  return a;
}

}  // namespace

// Issue 21, item 10: one 200,000-word line used to size every tensor (N x memory x 200,002 word
// ids: past 16 GB on a bAbI file). It is cut to kMaxSentenceWords, and the summary says so.
TEST(Memn2nCommands, TrainCutsAHugeLineToTheCapAndSaysSo) {
  std::string huge = "1 ";
  for (int i = 0; i < 200000; ++i) huge += "w" + std::to_string(i) + " ";
  const fs::path dir = city_folder("huge", {{"huge.txt", city_dialogs(19, 1) + huge + "\tsure\n2 for two\tnoted\n"}});
  auto a = train_args(dir, "huge.txt");
  a.out = (dir / "model.pt").string();
  std::ostringstream out;
  ASSERT_EQ(metadial::cli::run_memn2n_train(a, out), 0);
  EXPECT_NE(out.str().find("huge.txt: 20 dialogues, 59 responses; 1 sentence of more than 64 words cut to its first 64 "
                           "(longest 200000 words, first at "),
            std::string::npos)
      << out.str();
  // The model keeps the capped sentence size; eval reads the same file with it.
  metadial::cli::Memn2nEvalArgs e;
  e.model = a.out;
  e.test = (dir / "huge.txt").string();
  e.json = true;
  std::ostringstream eout;
  ASSERT_EQ(metadial::cli::run_memn2n_eval(e, eout), 0);
  EXPECT_EQ(nlohmann::json::parse(eout.str())["responses"], 59);

  a.json = true;
  a.out.clear();
  std::ostringstream jout;
  ASSERT_EQ(metadial::cli::run_memn2n_train(a, jout), 0);
  const auto j = nlohmann::json::parse(jout.str());
  EXPECT_EQ(j["files"]["train"]["cut_sentences"], 1);
  EXPECT_EQ(j["files"]["dev"]["cut_sentences"], 0);
}

// Issue 21, item 7: a file without any response gave "test 0.00 % (0 responses)" with exit 0.
TEST(Memn2nCommands, FilesWithoutAnyResponseAreRefusedNamingTheFile) {
  const fs::path dir = city_folder("noresp", {{"noresp.txt", "1 resto_1 R_cuisine thai\n2 resto_1 R_location paris\n"}});
  auto a = train_args(dir);
  a.out = (dir / "model.pt").string();
  std::ostringstream out;
  ASSERT_EQ(metadial::cli::run_memn2n_train(a, out), 0);
  EXPECT_NE(out.str().find("train " + a.train + ": 20 dialogues, 60 responses\n"), std::string::npos) << out.str();

  const auto data_error = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const metadial::DataError& e) {
      return e.what();
    }
    return "<no DataError>";
  };
  const std::string no_response = "noresp.txt: no bot response in 1 dialogue (no line 'ID user<TAB>bot')";
  metadial::cli::Memn2nEvalArgs e;
  e.model = a.out;
  e.test = (dir / "noresp.txt").string();
  std::ostringstream sink;
  EXPECT_NE(data_error([&] { metadial::cli::run_memn2n_eval(e, sink); }).find(no_response), std::string::npos);
  // The same for a dev or test file of `train` (dev 0.00 % per epoch; the test line left out).
  auto dev = train_args(dir);
  dev.dev = e.test;
  EXPECT_NE(data_error([&] { metadial::cli::run_memn2n_train(dev, sink); }).find(no_response), std::string::npos);
  auto test = train_args(dir);
  test.test = e.test;
  EXPECT_NE(data_error([&] { metadial::cli::run_memn2n_train(test, sink); }).find(no_response), std::string::npos);
  EXPECT_EQ(sink.str().find("epoch"), std::string::npos);  // refused before training
}

TEST(Memn2nCommands, MemoryOutsideItsBoundIsRefusedNamingTheFlag) {
  const fs::path dir = city_folder("memory");
  auto a = train_args(dir);
  a.memory = 100000;
  std::ostringstream out;
  try {
    metadial::cli::run_memn2n_train(a, out);
    FAIL() << "no InvalidArgument";
  } catch (const metadial::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("--memory 100000 must be in [1, 1000]"), std::string::npos) << e.what();
  }
}
