// The report of one study (`metadial report`): a single HTML file to attach to a paper or a
// message, with the dashboard's charts and its trials table, that works offline. It holds the
// dashboard's page, style and script, Chart.js and the study's data, all inline: nothing is
// fetched when it is opened (a Content-Security-Policy in the file forbids it). The data are the
// answers of the dashboard's API (api.h) at the time of writing: /api/study, /api/points (thinned
// as on the page, every improvement of the best kept), /api/curves, /api/importance, and every
// trial's row of the table (as {"columns": [names], "rows": [[values]]}, sorted, filtered and paged
// in the page itself); the trial detail shows
// a row's fields and, for the trials among the learning curves, its intermediate values.
//
// Names and values are escaped twice over: the data sit in a <script type="application/json">
// with '<', '>' and '&' written as \u escapes (no text of the study can close the element), and
// the page puts them into the document as text (textContent), never as HTML.
//
//   auto storage = storage::open_storage("sqlite:runs.db", storage::OpenMode::kReadOnly);
//   std::ofstream("report.html") << dashboard::render_report(*storage, "sqlite:runs.db", "branin-gp");
#pragma once

#include <string>

#include "metadial/dashboard/api.h"
#include "metadial/storage/storage.h"

namespace metadial::dashboard {

/// The HTML text of the report of study `study` (see above); `storage_label` is the storage URL
/// as shown (its password masked). StorageError naming the studies there are when there is no
/// such study. Reads the storage only.
std::string render_report(storage::Storage& storage, const std::string& storage_label, const std::string& study,
                          const ApiOptions& options = {});

/// `json` (nlohmann's dump) with every '<', '>' and '&' written as a \u escape: the same JSON value,
/// safe to put between <script> and </script>.
std::string json_for_script(const std::string& json);

}  // namespace metadial::dashboard
