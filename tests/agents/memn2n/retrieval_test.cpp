#include "metadial/agents/memn2n/retrieval.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "metadial/core/error.h"
#include "metadial/core/random.h"

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
}
