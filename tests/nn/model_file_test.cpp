// The shared model-file format: a round trip, and every kind of damage — cut short, bytes
// appended, parameters altered, sizes in the header that are absurd, negative, not integers or
// larger than the file — is one DataError naming the file, found before anything the size of
// the claim is allocated.
#include "metadial/nn/model_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "metadial/core/error.h"
#include "nn/model_file_testing.h"

namespace metadial::nn {
namespace {

using ::testing::HasSubstr;
using metadial::testing::edit_model_header;
using metadial::testing::layout_of;
using metadial::testing::read_file_bytes;
using metadial::testing::replace_model_header;
using metadial::testing::scramble_parameters;
using metadial::testing::write_file_bytes;

constexpr ModelFileKind kKind{"METADIAL-TEST", 1, "test model", "test model", "`save_model_file`"};

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("metadial_model_file_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "m.pt").string();
    params_ = {torch::arange(0, 600, torch::kFloat32).reshape({20, 30}), torch::linspace(-1, 1, 7)};
    save_model_file(path_, kKind, {{"note", "hello"}}, params_);
    bytes_ = read_file_bytes(path_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The message of the DataError load_model_file throws (a failure when it throws none or another).
  std::string error_of_load() {
    try {
      load_model_file(path_, kKind);
    } catch (const DataError& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_THAT(m, HasSubstr(path_));
      return m;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a DataError: " << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  }

  // The saved header with `field`'s value written as `text` verbatim.
  void set_header_text(const std::string& field, const std::string& text) {
    write_file_bytes(path_, bytes_);
    const auto l = layout_of(bytes_);
    const std::string header = bytes_.substr(l.header, l.header_size);
    const std::regex value("\"" + field + "\":(\\[.*?\\]\\]|[^,}]+)");
    ASSERT_TRUE(std::regex_search(header, value)) << header;
    replace_model_header(path_, std::regex_replace(header, value, "\"" + field + "\":" + text));
  }

  std::filesystem::path dir_;
  std::string path_;
  std::vector<torch::Tensor> params_;
  std::string bytes_;
};

// Peak resident memory of this process, bytes.
int64_t peak_rss() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}

TEST_F(ModelFileTest, RoundTripKeepsHeaderFieldsAndParameters) {
  const ModelFile f = load_model_file(path_, kKind);
  EXPECT_EQ(f.header.at("note"), "hello");
  EXPECT_EQ(f.header.at("parameter_bytes").get<size_t>(), bytes_.size() - layout_of(bytes_).parameters);
  ASSERT_EQ(f.params.size(), 2U);
  EXPECT_TRUE(torch::equal(f.params[0], params_[0]));
  EXPECT_TRUE(torch::equal(f.params[1], params_[1]));
  EXPECT_EQ(total_elements(f), 607);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(ModelFileTest, AbsurdParameterBytesAreOneDataErrorWithoutAllocatingThem) {
  const int64_t before = peak_rss();
  set_header_text("parameter_bytes", "1e12");
  EXPECT_THAT(error_of_load(), HasSubstr("parameter_bytes is 1000000000000.0, not a byte count"));
  set_header_text("parameter_bytes", "3e9");
  EXPECT_THAT(error_of_load(), HasSubstr("parameter_bytes is 3000000000.0, not a byte count"));
  // As integers they are byte counts, larger than what is left of the file.
  for (const char* claim : {"1000000000000", "3000000000", "18446744073709551615"}) {
    set_header_text("parameter_bytes", claim);
    EXPECT_THAT(error_of_load(), HasSubstr(std::string(" of ") + claim + " parameter bytes)")) << claim;
  }
  for (const char* claim : {"-1", "-3000000000", "12.5", "\"9999\"", "null", "[1]"}) {
    set_header_text("parameter_bytes", claim);
    EXPECT_THAT(error_of_load(), HasSubstr("not a byte count: a non-negative integer")) << claim;
  }
  // Fewer than the file has: bytes after the parameters.
  set_header_text("parameter_bytes", "100");
  EXPECT_THAT(error_of_load(), HasSubstr("bytes after the 100 parameter bytes its header announces"));
  EXPECT_LT(peak_rss() - before, int64_t{256} << 20) << "a claimed size was allocated";
}

TEST_F(ModelFileTest, AbsurdHeaderLengthsAndShapesAreOneDataError) {
  const int64_t before = peak_rss();
  const auto l = layout_of(bytes_);
  auto with_length_line = [&](const std::string& line) {
    write_file_bytes(path_, bytes_.substr(0, l.length_line) + line + "\n" + bytes_.substr(l.header));
  };
  with_length_line("3000000000");
  EXPECT_THAT(error_of_load(), HasSubstr("the JSON header is cut short: line 2 gives 3000000000 bytes"));
  with_length_line("99999999999999999");
  EXPECT_THAT(error_of_load(), HasSubstr("truncated test model file"));
  for (const char* bad : {"-3", "1e12", "", " 12", "abc", "123456789012345678901234"}) {
    with_length_line(bad);
    EXPECT_THAT(error_of_load(), HasSubstr("line 2 should be the header length")) << bad;
  }
  set_header_text("parameter_shapes", "[[1000000000,1000000000],[7]]");
  EXPECT_THAT(error_of_load(), HasSubstr("has more elements than the file's"));
  set_header_text("parameter_shapes", "[[20,-30],[7]]");
  EXPECT_THAT(error_of_load(), HasSubstr("dimension -30 is not a non-negative integer"));
  set_header_text("parameter_shapes", "[[20,30.5],[7]]");
  EXPECT_THAT(error_of_load(), HasSubstr("dimension 30.5 is not a non-negative integer"));
  set_header_text("parameter_shapes", "[[20,30],[8]]");
  EXPECT_THAT(error_of_load(), HasSubstr("parameter 1 has shape [7], its header says [8]"));
  set_header_text("parameter_checksum", "17");
  EXPECT_THAT(error_of_load(), HasSubstr("parameter_checksum is not a string"));
  EXPECT_LT(peak_rss() - before, int64_t{256} << 20) << "a claimed size was allocated";
}

TEST_F(ModelFileTest, TruncatedFilesAreOneDataErrorWhereverTheyAreCut) {
  const auto l = layout_of(bytes_);
  for (size_t n : {size_t{0}, size_t{5}, l.length_line, l.length_line + 2, l.header + 10, l.parameters - 1,
                   l.parameters, l.parameters + 100, bytes_.size() - 1}) {
    write_file_bytes(path_, bytes_.substr(0, n));
    const std::string m = error_of_load();
    if (n == 0) {
      EXPECT_THAT(m, HasSubstr("is empty"));
    } else {
      EXPECT_THAT(m, HasSubstr("truncated")) << "cut at " << n;
    }
  }
  write_file_bytes(path_, bytes_ + "x");
  EXPECT_THAT(error_of_load(), HasSubstr("1 bytes after the"));
}

TEST_F(ModelFileTest, RandomBytesInTheParametersAreAChecksumMismatch) {
  for (uint64_t seed = 0; seed < 4; ++seed) {
    write_file_bytes(path_, bytes_);
    scramble_parameters(path_, seed);
    EXPECT_THAT(error_of_load(), HasSubstr("corrupt test model parameters (checksum mismatch"));
  }
}

TEST_F(ModelFileTest, ForeignFilesOtherVersionsAndMissingFilesAreOneDataError) {
  write_file_bytes(path_, "PK\x03\x04 a zip archive, maybe a TorchScript model, not ours");
  EXPECT_THAT(error_of_load(), HasSubstr("is not a metadial test model (it does not start with 'METADIAL-TEST'"));
  write_file_bytes(path_, std::string(100000, 'A'));
  EXPECT_THAT(error_of_load(), HasSubstr("is not a metadial test model"));
  write_file_bytes(path_, "METADIAL-TEST 2\n2\n{}\n");
  EXPECT_THAT(error_of_load(), HasSubstr("format 'METADIAL-TEST 2' is not supported (this metadial reads version 1)"));
  write_file_bytes(path_, "METADIAL-TEST 1\n2\n[]\n");
  EXPECT_THAT(error_of_load(), HasSubstr("corrupt test model header (not a JSON object)"));
  write_file_bytes(path_, "METADIAL-TEST 1\n2\n{}\n");
  EXPECT_THAT(error_of_load(), HasSubstr("corrupt test model header (no parameter_shapes)"));
  std::filesystem::remove(path_);
  EXPECT_THAT(error_of_load(), HasSubstr("cannot open model file"));
}

TEST(ModelFile, CopyParametersChecksNamesShapesAndTypes) {
  const auto dir = std::filesystem::temp_directory_path() / ("metadial_model_file_copy_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "lin.pt").string();
  torch::nn::Linear a(3, 2), b(3, 2), wide(4, 2);
  save_model_file(path, kKind, {{"parameter_names", parameter_names(*a)}}, a->parameters());
  ModelFile f = load_model_file(path, kKind);
  EXPECT_EQ(f.header.at("parameter_names"), (nlohmann::json{"weight", "bias"}));
  EXPECT_EQ(copy_parameters(path, kKind, f, *b), 2U);
  EXPECT_TRUE(torch::equal(a->weight, b->weight));
  EXPECT_TRUE(torch::equal(a->bias, b->bias));
  try {
    copy_parameters(path, kKind, f, *wide);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'" + path + "': parameter weight has shape [2, 3]"));
  }
  f.header["parameter_names"] = {"w", "b"};
  EXPECT_THROW(copy_parameters(path, kKind, f, *b), DataError);
  f.header.erase("parameter_names");
  f.params[1] = f.params[1].to(torch::kDouble);
  EXPECT_THROW(copy_parameters(path, kKind, f, *b), DataError);
  f.params.pop_back();
  EXPECT_THROW(copy_parameters(path, kKind, f, *b), DataError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace metadial::nn
