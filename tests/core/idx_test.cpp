#include "metadial/core/idx.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "metadial/core/error.h"

namespace metadial {
namespace {

namespace fs = std::filesystem;

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "metadial-idx-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes raw bytes (no compression) so a test can build any malformed file by hand.
  std::string write_raw(const std::string& name, const std::vector<uint8_t>& bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path(name);
  }

  // Expects read_idx to throw DataError whose message contains every fragment.
  static void expect_data_error(const std::string& file, const std::vector<std::string>& fragments,
                                int expected_dims = -1) {
    try {
      read_idx(file, expected_dims);
      FAIL() << "no error for " << file;
    } catch (const DataError& e) {
      const std::string msg = e.what();
      for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
    }
  }

  fs::path dir_;
};

// Two 2x3 images and their labels, the bytes written out by hand from the IDX layout.
const std::vector<uint8_t> kImages = {0x00, 0x00, 0x08, 0x03,  // magic: ubyte, 3 dims
                                      0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,  // 2 x 2 x 3
                                      1, 2, 3, 4, 5, 6, 250, 251, 252, 253, 254, 255};
const std::vector<uint8_t> kLabels = {0x00, 0x00, 0x08, 0x01, 0, 0, 0, 2, 7, 3};

TEST_F(IdxTest, ReadsAHandWrittenPlainFile) {
  const IdxArray a = read_idx(write_raw("img", kImages), 3);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(a.numel(), 12);
  EXPECT_EQ(a.data, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 250, 251, 252, 253, 254, 255}));
}

TEST_F(IdxTest, GzipRoundTripGivesTheSameArray) {
  IdxArray a;
  a.dims = {3, 4};
  for (int i = 0; i < 12; ++i) a.data.push_back(static_cast<uint8_t>(i * 20));
  write_idx(path("a.gz"), a, /*gzip=*/true);
  // It really is compressed: gzip's magic bytes 1f 8b, not the IDX header.
  std::ifstream in(path("a.gz"), std::ios::binary);
  unsigned char head[2] = {};
  in.read(reinterpret_cast<char*>(head), 2);
  EXPECT_EQ(head[0], 0x1f);
  EXPECT_EQ(head[1], 0x8b);
  const IdxArray b = read_idx(path("a.gz"));
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);

  write_idx(path("a.idx"), a, /*gzip=*/false);
  EXPECT_EQ(fs::file_size(path("a.idx")), 4u + 2 * 4 + 12);
  EXPECT_EQ(read_idx(path("a.idx")).data, a.data);
}

TEST_F(IdxTest, ReadsImagesWithLabels) {
  const IdxImages im = read_idx_images(write_raw("img", kImages), write_raw("lab", kLabels));
  EXPECT_EQ(im.count, 2);
  EXPECT_EQ(im.rows, 2);
  EXPECT_EQ(im.cols, 3);
  EXPECT_EQ(im.pixels.size(), 12u);
  EXPECT_EQ(im.labels, (std::vector<uint8_t>{7, 3}));
}

TEST_F(IdxTest, WrongMagicNumberIsADataErrorNamingTheFile) {
  std::vector<uint8_t> bad = kImages;
  bad[0] = 0x1f;  // e.g. a gzip header where the IDX header should be
  const std::string f = write_raw("bad_magic", bad);
  expect_data_error(f, {"bad_magic", "wrong magic number 0x1f000803"});
}

TEST_F(IdxTest, OtherElementTypeIsRejected) {
  std::vector<uint8_t> bad = kImages;
  bad[2] = 0x0D;
  expect_data_error(write_raw("floats", bad), {"floats", "element type 0xd (float)", "unsigned-byte"});
}

TEST_F(IdxTest, WrongDimensionCountIsRejected) {
  expect_data_error(write_raw("lab", kLabels), {"lab", "1 dimensions", "expected 3 (images"}, 3);
}

TEST_F(IdxTest, TruncatedDataIsADataErrorSayingHowMuchIsMissing) {
  std::vector<uint8_t> cut(kImages.begin(), kImages.end() - 5);
  expect_data_error(write_raw("cut", cut), {"cut", "truncated", "promises 12 elements, the file holds 7"});
}

TEST_F(IdxTest, TruncatedHeaderIsADataError) {
  std::vector<uint8_t> cut(kImages.begin(), kImages.begin() + 9);
  expect_data_error(write_raw("cut_header", cut), {"cut_header", "truncated header"});
  expect_data_error(write_raw("tiny", {0, 0}), {"tiny", "too short"});
}

TEST_F(IdxTest, TrailingBytesAreADataError) {
  std::vector<uint8_t> longer = kLabels;
  longer.push_back(1);
  expect_data_error(write_raw("long", longer), {"long", "1 bytes after the last element"});
}

TEST_F(IdxTest, TruncatedGzipStreamIsADataError) {
  IdxArray a;
  a.dims = {2000};
  for (int i = 0; i < 2000; ++i) a.data.push_back(static_cast<uint8_t>((i * 7919) % 251));
  write_idx(path("full.gz"), a, true);
  std::ifstream in(path("full.gz"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() / 2);
  // Either zlib reports the cut stream, or the data comes out short: both name the file.
  expect_data_error(write_raw("half.gz", bytes), {"half.gz"});
}

TEST_F(IdxTest, MissingFileIsADataError) { expect_data_error(path("nope.gz"), {"nope.gz", "cannot open"}); }

TEST_F(IdxTest, ImageAndLabelCountsMustAgree) {
  std::vector<uint8_t> three = {0x00, 0x00, 0x08, 0x01, 0, 0, 0, 3, 1, 2, 3};
  const std::string img = write_raw("img", kImages), lab = write_raw("lab3", three);
  try {
    read_idx_images(img, lab);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("2 images but 3 labels"), std::string::npos) << e.what();
  }
}

TEST_F(IdxTest, LabelOutOfRangeNamesTheIndex) {
  std::vector<uint8_t> bad = kLabels;
  bad[9] = 10;
  try {
    read_idx_images(write_raw("img", kImages), write_raw("lab", bad));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("label 10 at index 1 is not in [0, 10)"), std::string::npos) << e.what();
  }
}

TEST_F(IdxTest, WriteRejectsDataThatDoesNotMatchDims) {
  IdxArray a;
  a.dims = {2, 2};
  a.data = {1, 2, 3};
  EXPECT_THROW(write_idx(path("x"), a, false), InvalidArgument);
}

}  // namespace
}  // namespace metadial
