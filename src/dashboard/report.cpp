#include "metadial/dashboard/report.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dashboard/assets.h"
#include "metadial/core/error.h"
#include "metadial/study/trial.h"

namespace metadial::dashboard {

using ::metadial::detail::concat;
using Json = nlohmann::json;

namespace {

std::string_view asset(const std::string& path) {
  for (const auto& a : detail::assets()) {
    if (path == a.path) return a.bytes();
  }
  MD_ASSERT(false, "no embedded dashboard asset ", path);
  return {};
}

/// `text` with its one `from` replaced by `to` (the page's index.html holds each exactly once).
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  MD_ASSERT(at != std::string::npos && text.find(from, at + 1) == std::string::npos,
            "the dashboard's index.html does not hold '", from, "' exactly once");
  text.replace(at, from.size(), to);
  return text;
}

/// A script to put between <script> and </script>: it must hold neither "</script" nor "<!--"
/// (either would end the element early or change how it is parsed). True of app.js and Chart.js;
/// checked, since a new version of either could break the report silently.
std::string inline_script(std::string_view js, const char* name) {
  std::string lower(js);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  MD_ASSERT(lower.find("</script") == std::string::npos && lower.find("<!--") == std::string::npos, name,
            " holds '</script' or '<!--' and cannot be put inline in the report");
  return std::string(js);
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// The API's answer as JSON; its error as StorageError (no such study, unreadable storage) or Error.
Json call(Api& api, const std::string& path, const std::map<std::string, std::string>& query) {
  const ApiResponse r = api.handle(path, query);
  Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (r.status == 200 && !j.is_discarded()) return j;
  const std::string error = j.is_object() && j.contains("error") ? j["error"].get<std::string>() : r.body;
  if (r.status == 404 || r.status == 503) throw StorageError(error);
  throw Error(concat("report: ", path, ": ", error));
}

}  // namespace

std::string json_for_script(const std::string& json) {
  std::string out;
  out.reserve(json.size() + json.size() / 32);
  for (const char c : json) {
    // In JSON these bytes occur only inside strings, where the escape means the same character.
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_report(storage::Storage& storage, const std::string& storage_label, const std::string& study,
                          const ApiOptions& options) {
  // Pages of the table as large as a study is likely to be: one or a few calls, not one per 500 rows.
  ApiOptions api_options = options;
  api_options.max_page = std::max<std::size_t>(options.max_page, 10000);
  Api api(storage, storage_label, api_options);
  const std::map<std::string, std::string> q = {{"study", study}};
  Json data = Json::object();
  data["study"] = call(api, "/api/study", q);
  data["points"] = call(api, "/api/points", q);
  data["curves"] = call(api, "/api/curves", q);
  data["importance"] = call(api, "/api/importance", q);
  // Every trial's row, by number, a page at a time; as columns (the names once) and rows of values,
  // which the page turns back into the API's objects.
  Json columns = Json::array();
  Json rows = Json::array();
  const auto page = static_cast<int64_t>(api_options.max_page);
  for (int64_t offset = 0;; offset += page) {
    Json j = call(api, "/api/trials",
                  {{"study", study}, {"offset", std::to_string(offset)}, {"limit", std::to_string(page)}});
    for (auto& r : j["rows"]) {
      if (columns.empty()) {
        for (auto it = r.begin(); it != r.end(); ++it) columns.push_back(it.key());
      }
      Json values = Json::array();
      for (const auto& k : columns) values.push_back(std::move(r[k.get<std::string>()]));
      rows.push_back(std::move(values));
    }
    if (offset + page >= j["matched"].get<int64_t>()) break;
  }
  data["trials"] = Json{{"columns", std::move(columns)}, {"rows", std::move(rows)}};
  data["generated_at"] = study::now_unix_seconds();
  data["version"] = METADIAL_VERSION;

  const std::string name = data["study"]["name"].get<std::string>();
  std::string html(asset("/"));
  html = replace_once(html, "<meta charset=\"utf-8\">",
                      "<meta charset=\"utf-8\">\n"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                      "form-action 'none'\">");
  html = replace_once(html, "<title>metadial dashboard</title>",
                      "<title>metadial report: " + html_escape(name) + "</title>");
  html = replace_once(html, "<link rel=\"stylesheet\" href=\"/app.css\">",
                      "<style>\n" + std::string(asset("/app.css")) + "</style>");
  html = replace_once(html, "<script src=\"/chart.min.js\" defer></script>",
                      "<script>\n" + inline_script(asset("/chart.min.js"), "chart.min.js") + "\n</script>");
  const std::string json = data.dump(-1, ' ', false, Json::error_handler_t::replace);
  html = replace_once(html, "<script src=\"/app.js\" defer></script>",
                      "<script type=\"application/json\" id=\"md-report\">" + json_for_script(json) +
                          "</script>\n<script>\n" + inline_script(asset("/app.js"), "app.js") + "\n</script>");
  // The name as text in the document itself (the script sets it again), for a reader without scripts.
  html = replace_once(html, "<h1 id=\"study-name\"></h1>", "<h1 id=\"study-name\">" + html_escape(name) + "</h1>");
  return html;
}

}  // namespace metadial::dashboard
