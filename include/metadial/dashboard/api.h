// The dashboard's JSON API over a Storage, without the HTTP server (server.h serves it): the
// page (src/dashboard/web/) and the tests call the same handle(). Read-only: it calls only the
// reading methods of the storage (open it with OpenMode::kReadOnly).
//
// Every answer is JSON. Paths, with their query parameters (a study is named by ?study=NAME):
//   /api/studies                 every study: name, direction, sampler, objective, trials by state,
//                                best value, last activity (unix seconds)
//   /api/study?study=            one study: its space, attrs, counts, best trial, and the `cursor`
//                                to pass to /api/changes
//   /api/changes?study=&cursor=  the numbers of the trials changed after `cursor`, and the new cursor
//                                (the page polls it about every second; see Storage::trials_changed_since)
//   /api/points?study=&max_points=
//                                the complete trials to draw (number, value, fidelity, cumulative cost
//                                by finish time, params), thinned to about max_points: every trial that
//                                improved the best so far, in number order or in finish order, is always
//                                sent (so the best-so-far line is exact); the others evenly by number
//   /api/curves?study=&max_curves=&max_steps=
//                                intermediate values (learning curves) of up to max_curves trials: the
//                                running ones, then the best by last reported value; each thinned to
//                                max_steps evenly spaced steps (first and last kept)
//   /api/trials?study=&offset=&limit=&sort=&order=&state=&q=
//                                one page of the trials table: sort by number, state, value, fidelity,
//                                cost, duration, started or param:NAME (asc / desc), filter by
//                                comma-separated states and by a text that a param, worker or fail
//                                reason contains; every trial is reachable by paging
//   /api/trial?study=&number=    one trial: params, value, intermediate values, fail reason, times,
//                                and the tail of a command objective's log: when the study's attrs
//                                hold "log_dir" (`tune` records the absolute log_dir of a command
//                                objective there), `log` has for each of stdout and stderr
//                                (log_dir/trial-<number>.out and .err) its path and either its last
//                                log_lines lines (`lines`, `truncated` if there were more) or why it
//                                cannot be read here (`error`: missing, not a regular file, a
//                                symbolic link, or the trial ran on another host)
//   /api/importance?study=       parameter importance (importance.h), recomputed only after a change
//                                (its forest fitted without holding up the other answers); `cursor`
//                                says which state of the study it describes
// An unknown study is 404, a bad query parameter 400, each with {"error": "one line"}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "metadial/dashboard/importance.h"
#include "metadial/storage/storage.h"

namespace metadial::dashboard {

/// Settings of the API.
struct ApiOptions {
  std::size_t max_points = 2000;  ///< default (and the most) points /api/points sends, improvements aside
  std::size_t max_curves = 40;    ///< default learning curves /api/curves sends
  std::size_t max_steps = 200;    ///< default points per learning curve
  std::size_t max_page = 500;     ///< the largest page of /api/trials
  std::size_t log_lines = 50;     ///< lines of a command objective's log /api/trial sends (its tail)
  std::size_t log_bytes = 65536;  ///< the most bytes read from the end of a log
  ForestOptions forest;           ///< of the importance (its seed: `dashboard --seed`)
};

/// One HTTP answer.
struct ApiResponse {
  int status = 200;
  std::string body;  ///< JSON text (UTF-8)
};

/// The last `max_lines` lines of the file at `path` (read from at most its last `max_bytes`):
/// {"path", "lines": [...], "truncated": bool, "size": bytes}, or {"path", "error": "one line"} when
/// it cannot be read (opened with O_NOFOLLOW, so a symbolic link is refused, and only a regular
/// file is read). Lines are UTF-8 with invalid bytes replaced when the answer is written.
nlohmann::json log_tail(const std::string& path, std::size_t max_lines, std::size_t max_bytes);

/// Indices (ascending) of the points to draw among `values` (the complete trials in number order),
/// about `max_points` of them: every index that improves the best so far in the order of the
/// indices, every one that improves it in `finish_order` (a permutation of the indices; empty: not
/// used), the first and the last, then others evenly spaced among the rest while fewer than
/// max_points are taken. Improvements are kept even beyond max_points.
std::vector<std::size_t> thin_points(std::span<const double> values, std::span<const std::size_t> finish_order,
                                     study::Direction direction, std::size_t max_points);

class Api {
 public:
  /// `storage_label`: the storage URL as shown to the user (its password masked).
  Api(storage::Storage& storage, std::string storage_label, ApiOptions options = {});
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  /// Answers GET `path` with `query` (decoded names and values). Safe to call from many threads.
  ApiResponse handle(const std::string& path, const std::map<std::string, std::string>& query);

 private:
  struct StudyCache;
  /// The cache of the named study, brought up to date with the storage's changes; throws
  /// StorageError (404) when there is no such study.
  std::shared_ptr<StudyCache> refreshed(const std::string& name);

  storage::Storage& storage_;
  std::string label_;
  ApiOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<StudyCache>> caches_;
};

}  // namespace metadial::dashboard
