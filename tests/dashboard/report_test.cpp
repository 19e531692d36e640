// The self-contained report (metadial/dashboard/report.h) of a small stored study: nothing in it is
// loaded from elsewhere, the study's name is escaped text, and the data it draws are all there.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/dashboard/report.h"
#include "metadial/space/search_space.h"
#include "metadial/storage/storage.h"

namespace metadial::dashboard {
namespace {

/// `text` in lower case (ASCII).
std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// The first `src=` or `href=` (any case, spaces allowed, quoted or not) whose value starts with
/// `//`, `http://` or `https://`, with what follows it; "" if there is none.
std::string url_attribute(const std::string& html) {
  const std::string h = lower(html);
  for (const char* name : {"src", "href"}) {
    for (size_t at = h.find(name); at != std::string::npos; at = h.find(name, at + 1)) {
      size_t i = at + std::strlen(name);
      while (i < h.size() && std::isspace(static_cast<unsigned char>(h[i]))) ++i;
      if (i >= h.size() || h[i] != '=') continue;
      ++i;
      while (i < h.size() && (std::isspace(static_cast<unsigned char>(h[i])) || h[i] == '"' || h[i] == '\'')) ++i;
      const std::string rest = h.substr(i, 8);
      if (rest.starts_with("//") || rest.starts_with("http://") || rest.starts_with("https://")) {
        return html.substr(at, 60);
      }
    }
  }
  return "";
}

/// The first `<script ...>` tag with a `src` attribute; "" if there is none.
std::string script_with_src(const std::string& html) {
  const std::string h = lower(html);
  for (size_t at = h.find("<script"); at != std::string::npos; at = h.find("<script", at + 1)) {
    const size_t end = h.find('>', at);
    const std::string tag = h.substr(at, end == std::string::npos ? std::string::npos : end - at);
    for (size_t s = tag.find("src"); s != std::string::npos; s = tag.find("src", s + 1)) {
      size_t i = s + 3;
      while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
      if (s > 0 && std::isspace(static_cast<unsigned char>(tag[s - 1])) && i < tag.size() && tag[i] == '=') return tag;
    }
  }
  return "";
}

using nlohmann::json;
using study::Direction;
using study::TrialState;

const char* kName = "<script>alert(1)</script> & \"lc\"";

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("metadial-report-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    url_ = "sqlite:" + (dir_ / "runs.db").string();
    auto writer = storage::open_storage(url_);
    space::SearchSpace space;
    space.add_float("lr", 1e-4, 1e-1, /*log=*/true).add_categorical("opt", {"adam", "</script>"});
    const auto study = writer->create_or_load_study(kName, Direction::kMinimize, space.to_json(),
                                                    json{{"sampler", "random"}, {"objective", "toy"}});
    for (int i = 0; i < 30; ++i) {
      auto t = writer->create_trial(study.id, "host:1");
      writer->set_trial_params(t.id, {{"lr", 1e-3 * (i + 1)}, {"opt", std::string(i % 2 ? "adam" : "</script>")}}, 0);
      for (int step = 0; step < 5; ++step) writer->report_intermediate(t.id, step, 10.0 - step - 0.1 * i);
      if (i == 7) {
        writer->finish_trial(t.id, TrialState::kFailed, std::nullopt, 1.0, "<b>diverged</b>");
      } else {
        writer->finish_trial(t.id, TrialState::kComplete, 100.0 - i, 1.0, "");
      }
    }
    reader_ = storage::open_storage(url_, storage::OpenMode::kReadOnly);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// The JSON the report draws (its <script type="application/json" id="md-report">).
  static json data_of(const std::string& html) {
    const std::string open = "<script type=\"application/json\" id=\"md-report\">";
    const std::size_t from = html.find(open);
    EXPECT_NE(from, std::string::npos);
    const std::size_t start = from + open.size();
    const std::size_t end = html.find("</script>", start);
    EXPECT_NE(end, std::string::npos);
    json data = json::parse(html.substr(start, end - start));
    // The rows come as columns and arrays of values: back to the objects of /api/trials.
    json trials = json::array();
    for (const auto& values : data["trials"]["rows"]) {
      json row = json::object();
      for (std::size_t i = 0; i < data["trials"]["columns"].size(); ++i) {
        row[data["trials"]["columns"][i].get<std::string>()] = values[i];
      }
      trials.push_back(std::move(row));
    }
    data["trials"] = std::move(trials);
    return data;
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<storage::Storage> reader_;
};

TEST_F(ReportTest, IsSelfContainedNothingIsLoadedFromElsewhere) {
  const std::string html = render_report(*reader_, url_, kName);
  // No external script, style, image or frame: no src/href to any URL, no <link>, no fetch allowed.
  // (Scanned by hand: std::regex trips GCC 12's -Wmaybe-uninitialized in the sanitizer build.)
  EXPECT_EQ(url_attribute(html), "") << "an attribute loads a URL";
  EXPECT_EQ(script_with_src(html), "") << "a <script> loads a file";
  EXPECT_EQ(lower(html).find("<link"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none';"), std::string::npos);
  // Chart.js, the page's script and its style are inline.
  EXPECT_NE(html.find("Chart.js v3"), std::string::npos);
  EXPECT_NE(html.find("function reportApi("), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  for (const char* id :
       {"chart-history", "chart-cost", "chart-curves", "chart-importance", "chart-parallel", "trials"}) {
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
}

TEST_F(ReportTest, TheStudyNameAndValuesAreEscapedText) {
  const std::string html = render_report(*reader_, url_, kName);
  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;lc&quot;";
  EXPECT_NE(html.find("<title>metadial report: " + escaped + "</title>"), std::string::npos);
  EXPECT_NE(html.find("<h1 id=\"study-name\">" + escaped + "</h1>"), std::string::npos);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos) << "the name closed a script element";
  EXPECT_EQ(html.find("<b>diverged"), std::string::npos) << "a fail reason went in as HTML";
  // Every script element is one of the three the report puts there: the data cannot close one early.
  std::size_t n = 0;
  for (std::size_t at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) ++n;
  EXPECT_EQ(n, 3u);
  // The data keep the name, the category "</script>" and the reason as they are.
  const json data = data_of(html);
  EXPECT_EQ(data["study"]["name"], kName);
  EXPECT_EQ(data["trials"][0]["params"]["opt"], "</script>");
  EXPECT_EQ(data["trials"][7]["fail_reason"], "<b>diverged</b>");
}

TEST_F(ReportTest, HoldsEveryTrialThePointsTheCurvesAndTheImportance) {
  const json data = data_of(render_report(*reader_, url_, kName));
  ASSERT_EQ(data["trials"].size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(data["trials"][i]["number"], i);
  EXPECT_EQ(data["trials"][7]["state"], "failed");
  EXPECT_DOUBLE_EQ(data["trials"][29]["value"].get<double>(), 71.0);
  EXPECT_EQ(data["study"]["counts"]["complete"], 29);
  EXPECT_EQ(data["study"]["best"]["number"], 29);
  EXPECT_EQ(data["points"]["number"].size(), 29u);
  EXPECT_EQ(data["points"]["params"]["opt"].size(), 29u);
  EXPECT_EQ(data["curves"]["total_with_curves"], 30);
  EXPECT_FALSE(data["curves"]["curves"].empty());
  EXPECT_EQ(data["importance"]["params"].size(), 2u);
  EXPECT_EQ(data["version"], METADIAL_VERSION);
}

TEST_F(ReportTest, ALargeStudyHasEveryTrialInTheTable) {
  auto st = storage::open_storage("memory");  // the storage does not matter here; memory is quick
  space::SearchSpace space;
  space.add_float("lr", 1e-4, 1e-1, /*log=*/true);
  const auto study = st->create_or_load_study("big", Direction::kMaximize, space.to_json(), json::object());
  for (int i = 0; i < 12000; ++i) {
    auto t = st->create_trial(study.id, "host:1");
    st->set_trial_params(t.id, {{"lr", 1e-3}}, 0);
    st->finish_trial(t.id, TrialState::kComplete, static_cast<double>(i % 977), 1.0, "");
  }
  const json data = data_of(render_report(*st, "memory", "big"));
  ASSERT_EQ(data["trials"].size(), 12000u);
  for (int i = 0; i < 12000; i += 1111) EXPECT_EQ(data["trials"][i]["number"], i);
  EXPECT_EQ(data["trials"][11999]["number"], 11999);
  EXPECT_EQ(data["points"]["total_complete"], 12000);
}

TEST(Report, AStudyWithoutTrialsHasAReportToo) {
  auto st = storage::open_storage("memory");
  space::SearchSpace space;
  space.add_float("x", 0.0, 1.0);
  st->create_or_load_study("empty", Direction::kMinimize, space.to_json(), json::object());
  const std::string html = render_report(*st, "memory", "empty");
  EXPECT_NE(html.find("\"trials\":{\"columns\":[],\"rows\":[]}"), std::string::npos);
  EXPECT_NE(html.find("<h1 id=\"study-name\">empty</h1>"), std::string::npos);
}

TEST_F(ReportTest, AnUnknownStudyIsAStorageErrorNamingTheStudiesThere) {
  try {
    render_report(*reader_, url_, "nope");
    FAIL() << "no error";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("no study 'nope'"), std::string::npos) << e.what();
  }
}

TEST(JsonForScript, EscapesWhatCouldEndTheElementAndKeepsTheValue) {
  const json j = {{"a", "</script><!-- & >"}, {"b", 1}};
  const std::string s = json_for_script(j.dump());
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('>'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  EXPECT_EQ(json::parse(s), j);
}

}  // namespace
}  // namespace metadial::dashboard
