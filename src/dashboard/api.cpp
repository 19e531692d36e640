#include "metadial/dashboard/api.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/text.h"
#include "metadial/space/search_space.h"

namespace metadial::dashboard {

using ::metadial::detail::concat;
using study::FrozenTrial;
using study::TrialState;
using Json = nlohmann::json;

std::vector<std::size_t> thin_points(std::span<const double> values, std::span<const std::size_t> finish_order,
                                     study::Direction direction, std::size_t max_points) {
  const std::size_t n = values.size();
  std::vector<char> keep(n, 0);
  if (n == 0) return {};
  keep[0] = 1;
  keep[n - 1] = 1;
  double best = values[0];
  for (std::size_t i = 1; i < n; ++i) {
    if (study::better(direction, values[i], best)) {
      best = values[i];
      keep[i] = 1;
    }
  }
  if (!finish_order.empty()) {
    MD_ASSERT(finish_order.size() == n, "finish_order has ", finish_order.size(), " indices for ", n, " values");
    best = values[finish_order[0]];
    keep[finish_order[0]] = 1;
    for (std::size_t k = 1; k < n; ++k) {
      const std::size_t i = finish_order[k];
      if (study::better(direction, values[i], best)) {
        best = values[i];
        keep[i] = 1;
      }
    }
  }
  std::vector<std::size_t> rest;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (keep[i]) {
      ++kept;
    } else {
      rest.push_back(i);
    }
  }
  if (kept < max_points && !rest.empty()) {
    const std::size_t m = std::min(max_points - kept, rest.size());
    for (std::size_t k = 0; k < m; ++k) keep[rest[k * rest.size() / m]] = 1;
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    if (keep[i]) out.push_back(i);
  }
  return out;
}

Json log_tail(const std::string& path, std::size_t max_lines, std::size_t max_bytes) {
  Json j{{"path", path}};
  // O_NONBLOCK: a FIFO put in a log's place does not hang the open.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int e = errno;
    j["error"] = e == ENOENT ? std::string("no such file on this machine")
                 : e == ELOOP ? std::string("a symbolic link (not followed)")
                              : concat("cannot open it: ", std::strerror(e));
    return j;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    j["error"] = "not a regular file";
    return j;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  const std::size_t start = size > max_bytes ? size - max_bytes : 0;
  std::string text(size - start, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(start + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // an error, or the file shrank: what was read is shown
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  bool truncated = false;
  if (start > 0) {  // the first line read is likely cut: start after it
    truncated = true;
    const std::size_t nl = text.find('\n');
    text = nl == std::string::npos ? std::string() : text.substr(nl + 1);
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::vector<std::string> lines;
  if (!text.empty()) {
    std::size_t from = 0;
    while (true) {
      const std::size_t nl = text.find('\n', from);
      lines.push_back(text.substr(from, nl == std::string::npos ? std::string::npos : nl - from));
      if (nl == std::string::npos) break;
      from = nl + 1;
    }
  }
  if (lines.size() > max_lines) {
    truncated = true;
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(max_lines));
  }
  j["lines"] = lines;
  j["truncated"] = truncated;
  j["size"] = size;
  return j;
}

namespace {

/// This machine's host name, as a worker writes it before ":pid" (study/trial.h: "host:pid").
std::string this_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

/// A bad query parameter: answered 400.
class BadRequest : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// No study of the name: answered 404 (another StorageError, e.g. an unreadable file, is 503).
class UnknownStudy : public StorageError {
 public:
  using StorageError::StorageError;
};

const std::string* find(const std::map<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? nullptr : &it->second;
}

int64_t query_int(const std::map<std::string, std::string>& q, const std::string& key, int64_t fallback, int64_t lo,
                  int64_t hi) {
  const std::string* s = find(q, key);
  if (s == nullptr || s->empty()) return fallback;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size() || v < lo || v > hi) {
    throw BadRequest(concat("query parameter '", key, "': '", text::escape_controls(*s), "' is not an integer in [", lo,
                            ", ", hi, "]"));
  }
  return v;
}

std::string study_name(const std::map<std::string, std::string>& q) {
  const std::string* s = find(q, "study");
  if (s == nullptr || s->empty()) throw BadRequest("query parameter 'study' is missing: give ?study=NAME");
  return *s;
}

Json value_json(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? Json(*v) : Json(nullptr);
}

/// A trial's row of the table, and the base of its detail.
Json trial_json(const FrozenTrial& t, std::size_t max_reason) {
  std::string reason = t.fail_reason;
  if (reason.size() > max_reason) reason = reason.substr(0, max_reason) + "...";
  return Json{{"number", t.number},
              {"state", study::to_string(t.state)},
              {"value", value_json(t.value)},
              {"fidelity", t.fidelity},
              {"cost", t.cost},
              {"duration", t.duration()},
              {"started_at", t.started_at},
              {"finished_at", t.finished_at},
              {"params", space::to_json(t.params)},
              {"worker", t.worker},
              {"fail_reason", reason},
              {"n_intermediate", t.intermediate.size()}};
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The value a categorical/int/float param sorts by: numbers as numbers, strings after them.
std::pair<int, std::pair<double, std::string>> sort_key(const space::Config& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return {2, {0.0, ""}};
  if (const auto* d = std::get_if<double>(&it->second)) return {0, {*d, ""}};
  if (const auto* i = std::get_if<int64_t>(&it->second)) return {0, {static_cast<double>(*i), ""}};
  return {1, {0.0, std::get<std::string>(it->second)}};
}

}  // namespace

struct Api::StudyCache {
  std::mutex mu;
  std::mutex importance_mu;  ///< taken before `mu`: one forest fitted at a time
  storage::StudyRecord record;
  space::SearchSpace space;
  int64_t cursor = 0;
  std::vector<FrozenTrial> trials;  ///< index = number (numbers have no gaps)
  std::vector<int64_t> changed_at;  ///< the cursor after the refresh that last saw each trial change
  int64_t importance_cursor = -1;
  Json importance;

  void refresh(storage::Storage& storage) {
    storage::TrialChanges changes = storage.trials_changed_since(record.id, cursor);
    if (changes.trials.empty() && changes.cursor == cursor) return;
    for (auto& t : changes.trials) {
      const auto n = static_cast<std::size_t>(t.number);
      if (n >= trials.size()) {
        trials.resize(n + 1);
        changed_at.resize(n + 1, 0);
      }
      trials[n] = std::move(t);
      changed_at[n] = changes.cursor;
    }
    cursor = changes.cursor;
  }

  Json counts() const {
    int64_t by_state[4] = {0, 0, 0, 0};
    double cost = 0.0;
    for (const auto& t : trials) {
      if (t.number < 0) continue;
      ++by_state[static_cast<int>(t.state)];
      cost += t.cost;
    }
    return Json{{"running", by_state[0]}, {"complete", by_state[1]}, {"pruned", by_state[2]},
                {"failed", by_state[3]},  {"total", by_state[0] + by_state[1] + by_state[2] + by_state[3]},
                {"cost", cost}};
  }

  const FrozenTrial* best() const {
    const FrozenTrial* b = nullptr;
    for (const auto& t : trials) {
      if (t.number >= 0 && t.is_complete() && (b == nullptr || study::better(record.direction, *t.value, *b->value))) b = &t;
    }
    return b;
  }

  /// The /api/importance answer at the current cursor. The forest is fitted outside `mu`, on a copy
  /// of the complete trials, so that the study's other answers (the page asks for them at the same
  /// time) do not wait for it.
  Json importance_answer(const ForestOptions& forest) {
    std::lock_guard fitting(importance_mu);
    std::unique_lock lock(mu);
    if (importance_cursor != cursor) {
      const int64_t at = cursor;
      const space::SearchSpace fitted_space = space;
      std::vector<FrozenTrial> complete;
      for (const auto& t : trials) {
        if (t.number < 0 || !t.is_complete()) continue;
        FrozenTrial c;  // what study_importance reads, without the intermediate values
        c.number = t.number;
        c.state = t.state;
        c.params = t.params;
        c.value = t.value;
        c.fidelity = t.fidelity;
        complete.push_back(std::move(c));
      }
      lock.unlock();
      const StudyImportance imp = study_importance(fitted_space, complete, forest);
      Json params = Json::array();
      for (const auto& p : imp.params) params.push_back(Json{{"param", p.param}, {"importance", p.importance}});
      Json answer = Json{{"method", concat("fANOVA main effects of a random forest (", forest.n_trees, " trees, seed ",
                                           forest.seed, ")")},
                         {"fidelity", imp.fidelity},
                         {"n_trials", imp.n_trials},
                         {"params", params}};
      lock.lock();
      importance = std::move(answer);
      importance_cursor = at;
    }
    Json j = importance;
    j["cursor"] = importance_cursor;
    return j;
  }

  double last_activity() const {
    double last = record.created_at;
    for (const auto& t : trials) last = std::max({last, t.started_at, t.finished_at});
    return last;
  }
};

Api::Api(storage::Storage& storage, std::string storage_label, ApiOptions options)
    : storage_(storage), label_(std::move(storage_label)), options_(std::move(options)) {}

Api::~Api() = default;

std::shared_ptr<Api::StudyCache> Api::refreshed(const std::string& name) {
  const std::optional<storage::StudyRecord> found = storage_.find_study(name);
  std::shared_ptr<StudyCache> cache;
  {
    std::lock_guard lock(mu_);
    if (!found) {
      caches_.erase(name);
      std::string names;
      for (const auto& s : storage_.list_studies()) names += (names.empty() ? "" : ", ") + text::escape_controls(s.name);
      throw UnknownStudy(concat("no study '", text::escape_controls(name), "' in storage '", text::escape_controls(label_),
                                "' (", names.empty() ? std::string("it holds no studies") : "it holds " + names, ")"));
    }
    auto& slot = caches_[name];
    // A study deleted and created again under the name (or renamed onto it) has another id.
    if (!slot || slot->record.id != found->id) {
      slot = std::make_shared<StudyCache>();
      slot->record = *found;
      slot->space = space::SearchSpace::from_json(found->space);
    }
    cache = slot;
  }
  std::lock_guard lock(cache->mu);
  cache->refresh(storage_);
  return cache;
}

ApiResponse Api::handle(const std::string& path, const std::map<std::string, std::string>& query) {
  try {
    if (path == "/api/studies") {
      Json list = Json::array();
      for (const auto& s : storage_.list_studies()) {
        std::shared_ptr<StudyCache> c;
        try {
          c = refreshed(s.name);
        } catch (const UnknownStudy&) {
          continue;  // deleted or renamed between the two reads
        }
        std::lock_guard lock(c->mu);
        const FrozenTrial* b = c->best();
        list.push_back(Json{{"name", s.name},
                            {"direction", study::to_string(s.direction)},
                            {"sampler", s.attrs.is_object() ? s.attrs.value("sampler", "") : ""},
                            {"objective", s.attrs.is_object() ? s.attrs.value("objective", "") : ""},
                            {"counts", c->counts()},
                            {"best_value", b ? Json(*b->value) : Json(nullptr)},
                            {"last_activity", c->last_activity()}});
      }
      return {200, dump(Json{{"storage", label_}, {"studies", list}})};
    }

    const std::string name = study_name(query);
    auto c = refreshed(name);
    if (path == "/api/importance") return {200, dump(c->importance_answer(options_.forest))};
    std::lock_guard lock(c->mu);
    const auto& trials = c->trials;

    if (path == "/api/study") {
      const FrozenTrial* b = c->best();
      Json best = nullptr;
      if (b) best = Json{{"number", b->number}, {"value", *b->value}, {"params", space::to_json(b->params)},
                         {"fidelity", b->fidelity}};
      return {200, dump(Json{{"name", c->record.name},
                             {"storage", label_},
                             {"direction", study::to_string(c->record.direction)},
                             {"space", c->record.space},
                             {"attrs", c->record.attrs},
                             {"created_at", c->record.created_at},
                             {"counts", c->counts()},
                             {"best", best},
                             {"last_activity", c->last_activity()},
                             {"cursor", c->cursor}})};
    }

    if (path == "/api/changes") {
      const int64_t since = query_int(query, "cursor", 0, 0, std::numeric_limits<int64_t>::max());
      Json changed = Json::array();
      for (std::size_t i = 0; i < trials.size(); ++i) {
        if (trials[i].number >= 0 && c->changed_at[i] > since) changed.push_back(trials[i].number);
      }
      return {200, dump(Json{{"cursor", c->cursor}, {"changed", changed}, {"counts", c->counts()}})};
    }

    if (path == "/api/points") {
      const auto max_points = static_cast<std::size_t>(query_int(query, "max_points",
                                                                 static_cast<int64_t>(options_.max_points), 2,
                                                                 static_cast<int64_t>(options_.max_points)));
      // Cumulative cost of the finished trials in the order they finished (ties by number).
      std::vector<const FrozenTrial*> finished;
      for (const auto& t : trials) {
        if (t.number >= 0 && t.is_finished()) finished.push_back(&t);
      }
      std::stable_sort(finished.begin(), finished.end(), [](const FrozenTrial* a, const FrozenTrial* b) {
        return a->finished_at < b->finished_at;
      });
      std::vector<const FrozenTrial*> complete;
      for (const auto& t : trials) {
        if (t.number >= 0 && t.is_complete() && std::isfinite(*t.value)) complete.push_back(&t);
      }
      std::map<int64_t, std::size_t> index_of;  // number -> index in `complete`
      for (std::size_t i = 0; i < complete.size(); ++i) index_of[complete[i]->number] = i;
      std::vector<double> cum_cost(complete.size(), 0.0);
      std::vector<std::size_t> finish_order;
      double total = 0.0;
      for (const FrozenTrial* t : finished) {
        total += t->cost;
        if (auto it = index_of.find(t->number); it != index_of.end()) {
          cum_cost[it->second] = total;
          finish_order.push_back(it->second);
        }
      }
      std::vector<double> values;
      for (const FrozenTrial* t : complete) values.push_back(*t->value);
      const auto kept = thin_points(values, finish_order, c->record.direction, max_points);
      Json numbers = Json::array(), vals = Json::array(), fid = Json::array(), cost = Json::array(),
           finished_at = Json::array();
      Json params = Json::object();
      for (const auto& p : c->space.params()) params[p.name] = Json::array();
      for (std::size_t k : kept) {
        const FrozenTrial& t = *complete[k];
        numbers.push_back(t.number);
        vals.push_back(*t.value);
        fid.push_back(t.fidelity);
        cost.push_back(cum_cost[k]);
        finished_at.push_back(t.finished_at);
        for (const auto& p : c->space.params()) {
          auto it = t.params.find(p.name);
          Json v = nullptr;
          if (it != t.params.end()) std::visit([&](const auto& x) { v = x; }, it->second);
          params[p.name].push_back(std::move(v));
        }
      }
      return {200, dump(Json{{"direction", study::to_string(c->record.direction)},
                             {"total_complete", complete.size()},
                             {"total_cost", total},
                             {"cursor", c->cursor},
                             {"number", numbers},
                             {"value", vals},
                             {"fidelity", fid},
                             {"cum_cost", cost},
                             {"finished_at", finished_at},
                             {"params", params}})};
    }

    if (path == "/api/curves") {
      const auto max_curves =
          static_cast<std::size_t>(query_int(query, "max_curves", static_cast<int64_t>(options_.max_curves), 1, 1000));
      const auto max_steps =
          static_cast<std::size_t>(query_int(query, "max_steps", static_cast<int64_t>(options_.max_steps), 2, 10000));
      std::vector<const FrozenTrial*> running, done;
      std::size_t with_curves = 0;
      for (auto it = trials.rbegin(); it != trials.rend(); ++it) {
        if (it->number < 0 || it->intermediate.empty()) continue;
        ++with_curves;
        (it->is_finished() ? done : running).push_back(&*it);
      }
      const auto dir = c->record.direction;
      std::stable_sort(done.begin(), done.end(), [dir](const FrozenTrial* a, const FrozenTrial* b) {
        return study::better(dir, a->intermediate.rbegin()->second, b->intermediate.rbegin()->second);
      });
      std::vector<const FrozenTrial*> chosen;
      for (const auto* t : running) {
        if (chosen.size() < max_curves) chosen.push_back(t);
      }
      for (const auto* t : done) {
        if (chosen.size() < max_curves) chosen.push_back(t);
      }
      Json curves = Json::array();
      for (const FrozenTrial* t : chosen) {
        std::vector<std::pair<int64_t, double>> pts(t->intermediate.begin(), t->intermediate.end());
        Json steps = Json::array(), vals = Json::array();
        const std::size_t n = pts.size();
        const std::size_t m = std::min(n, max_steps);
        std::size_t last = n;
        for (std::size_t k = 0; k < m; ++k) {
          const std::size_t i = m == 1 ? 0 : k * (n - 1) / (m - 1);
          if (i == last) continue;
          last = i;
          steps.push_back(pts[i].first);
          vals.push_back(std::isfinite(pts[i].second) ? Json(pts[i].second) : Json(nullptr));
        }
        curves.push_back(Json{{"number", t->number},
                              {"state", study::to_string(t->state)},
                              {"fidelity", t->fidelity},
                              {"step", steps},
                              {"value", vals}});
      }
      return {200, dump(Json{{"total_with_curves", with_curves}, {"cursor", c->cursor}, {"curves", curves}})};
    }

    if (path == "/api/trials") {
      const int64_t offset = query_int(query, "offset", 0, 0, std::numeric_limits<int64_t>::max());
      const int64_t limit = query_int(query, "limit", 50, 1, static_cast<int64_t>(options_.max_page));
      const std::string* sort_s = find(query, "sort");
      const std::string sort = sort_s && !sort_s->empty() ? *sort_s : "number";
      const std::string* order_s = find(query, "order");
      const std::string order = order_s && !order_s->empty() ? *order_s : "asc";
      if (order != "asc" && order != "desc") {
        throw BadRequest(concat("query parameter 'order': '", text::escape_controls(order), "' must be asc or desc"));
      }
      static const std::set<std::string> kKeys = {"number", "state", "value", "fidelity", "cost", "duration", "started"};
      std::string param;
      if (sort.rfind("param:", 0) == 0) {
        param = sort.substr(6);
        bool known = false;
        for (const auto& p : c->space.params()) known = known || p.name == param;
        if (!known) throw BadRequest(concat("query parameter 'sort': the study has no parameter '", text::escape_controls(param), "'"));
      } else if (!kKeys.count(sort)) {
        throw BadRequest(concat("query parameter 'sort': '", text::escape_controls(sort),
                                "' must be one of number, state, value, fidelity, cost, duration, started, param:NAME"));
      }
      std::set<TrialState> states;
      if (const std::string* st = find(query, "state"); st && !st->empty()) {
        std::size_t start = 0;
        while (start <= st->size()) {
          const std::size_t comma = std::min(st->find(',', start), st->size());
          const std::string s = st->substr(start, comma - start);
          try {
            states.insert(study::trial_state_from_string(s));
          } catch (const InvalidArgument&) {
            throw BadRequest(concat("query parameter 'state': '", text::escape_controls(s),
                                    "' must be running, complete, pruned or failed"));
          }
          start = comma + 1;
        }
      }
      const std::string* q = find(query, "q");
      const std::string needle = q ? lower(*q) : "";
      std::vector<const FrozenTrial*> rows;
      for (const auto& t : trials) {
        if (t.number < 0) continue;
        if (!states.empty() && !states.count(t.state)) continue;
        if (!needle.empty()) {
          const std::string hay = lower(concat(t.number, " ", space::to_string(t.params), " ", t.worker, " ", t.fail_reason));
          if (hay.find(needle) == std::string::npos) continue;
        }
        rows.push_back(&t);
      }
      const bool desc = order == "desc";
      auto less = [&](const FrozenTrial* a, const FrozenTrial* b) -> bool {
        if (sort == "number") return a->number < b->number;
        if (sort == "state") return static_cast<int>(a->state) < static_cast<int>(b->state);
        if (sort == "fidelity") return a->fidelity < b->fidelity;
        if (sort == "cost") return a->cost < b->cost;
        if (sort == "duration") return a->duration() < b->duration();
        if (sort == "started") return a->started_at < b->started_at;
        if (sort == "value") return *a->value < *b->value;
        return sort_key(a->params, param) < sort_key(b->params, param);
      };
      // Trials without the sort key (no value; a param not yet set) go last in either order; ties by number.
      auto has_key = [&](const FrozenTrial* t) {
        if (sort == "value") return t->value.has_value() && std::isfinite(*t->value);
        if (!param.empty()) return t->params.count(param) > 0;
        return true;
      };
      std::stable_sort(rows.begin(), rows.end(), [&](const FrozenTrial* a, const FrozenTrial* b) {
        const bool ka = has_key(a), kb = has_key(b);
        if (ka != kb) return ka;
        if (!ka) return a->number < b->number;
        if (less(a, b)) return !desc;
        if (less(b, a)) return desc;
        return a->number < b->number;
      });
      Json page = Json::array();
      for (int64_t i = offset; i < std::min<int64_t>(offset + limit, static_cast<int64_t>(rows.size())); ++i) {
        page.push_back(trial_json(*rows[static_cast<std::size_t>(i)], 300));
      }
      return {200, dump(Json{{"total", c->counts()["total"]},
                             {"matched", rows.size()},
                             {"offset", offset},
                             {"limit", limit},
                             {"cursor", c->cursor},
                             {"rows", page}})};
    }

    if (path == "/api/trial") {
      const int64_t number = query_int(query, "number", -1, 0, std::numeric_limits<int64_t>::max());
      if (number < 0) throw BadRequest("query parameter 'number' is missing: give &number=N");
      if (number >= static_cast<int64_t>(trials.size()) || trials[static_cast<std::size_t>(number)].number < 0) {
        return {404, dump(Json{{"error", concat("study '", name, "' has no trial ", number, " (it has ", trials.size(),
                                                " trials: 0 to ", static_cast<int64_t>(trials.size()) - 1, ")")}})};
      }
      const FrozenTrial& t = trials[static_cast<std::size_t>(number)];
      Json j = trial_json(t, t.fail_reason.size());
      Json steps = Json::array(), vals = Json::array();
      for (const auto& [s, v] : t.intermediate) {
        steps.push_back(s);
        vals.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
      }
      j["intermediate"] = Json{{"step", steps}, {"value", vals}};
      j["heartbeat_at"] = t.heartbeat_at;
      j["id"] = t.id;
      const Json& attrs = c->record.attrs;
      if (attrs.is_object() && attrs.contains("log_dir") && attrs["log_dir"].is_string()) {
        const std::string dir = attrs["log_dir"].get<std::string>();
        const std::string host = t.worker.substr(0, t.worker.rfind(':'));
        Json log = Json::object();
        for (const char* stream : {"out", "err"}) {
          Json tail = log_tail(concat(dir, "/trial-", t.number, ".", stream), options_.log_lines, options_.log_bytes);
          if (tail.contains("error") && !host.empty() && host != this_host()) {
            tail["error"] = concat(tail["error"].get<std::string>(), " (the trial ran on host '", host,
                                   "'; its log is there)");
          }
          log[stream] = std::move(tail);
        }
        j["log"] = std::move(log);
      }
      return {200, dump(j)};
    }

    return {404, dump(Json{{"error", concat("no API path '", text::escape_controls(path),
                                            "' (paths: /api/studies, /api/study, /api/changes, /api/points, "
                                            "/api/curves, /api/trials, /api/trial, /api/importance)")}})};
  } catch (const BadRequest& e) {
    return {400, dump(Json{{"error", e.what()}})};
  } catch (const UnknownStudy& e) {
    return {404, dump(Json{{"error", e.what()}})};
  } catch (const StorageError& e) {
    return {503, dump(Json{{"error", e.what()}})};
  } catch (const std::exception& e) {
    return {500, dump(Json{{"error", e.what()}})};
  }
}

}  // namespace metadial::dashboard
