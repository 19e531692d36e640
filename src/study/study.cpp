#include "metadial/study/study.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <set>
#include <thread>

#include "metadial/core/error.h"
#include "metadial/core/random.h"

namespace metadial::study {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// True if `worker` ("host:pid") names a process of this host that no longer exists.
bool local_worker_is_gone(const std::string& worker) {
  const auto colon = worker.rfind(':');
  if (colon == std::string::npos || worker.substr(0, colon) != host_name()) return false;
  char* end = nullptr;
  const long pid = std::strtol(worker.c_str() + colon + 1, &end, 10);
  if (pid <= 0 || *end != '\0') return false;
  if (pid == static_cast<long>(getpid())) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

// Sends Storage::heartbeat for every registered trial every interval, on one thread started at the
// first registration and stopped (joined) with the last owner: the Study objects and the Trials.
class Heartbeats {
 public:
  explicit Heartbeats(storage::Storage& storage) : storage_(storage) {}
  Heartbeats(const Heartbeats&) = delete;
  Heartbeats& operator=(const Heartbeats&) = delete;
  ~Heartbeats() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void set_interval(double seconds) {
    MD_CHECK(std::isfinite(seconds) && seconds > 0, "heartbeat interval must be > 0 seconds (got ", seconds, ")");
    std::lock_guard lock(mu_);
    interval_ = std::chrono::duration<double>(seconds);
    cv_.notify_all();
  }

  void add(int64_t trial_id) {
    std::lock_guard lock(mu_);
    ids_.insert(trial_id);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  }

  void remove(int64_t trial_id) noexcept {
    std::lock_guard lock(mu_);
    ids_.erase(trial_id);
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval_, [&] { return done_; })) {
      const std::vector<int64_t> ids(ids_.begin(), ids_.end());
      lock.unlock();  // the storage may take long (a network round trip): ask/tell go on meanwhile
      for (int64_t id : ids) {
        try {
          storage_.heartbeat(id);
        } catch (const std::exception&) {
          // Finished meanwhile, or the storage is unreachable for now: the next beat tries again.
        }
      }
      lock.lock();
    }
  }

  storage::Storage& storage_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int64_t> ids_;
  std::chrono::duration<double> interval_{5.0};
  bool done_ = false;
  std::thread thread_;
};

std::string this_worker() { return host_name() + ":" + std::to_string(getpid()); }

Trial::Trial(storage::Storage* storage, FrozenTrial record, std::shared_ptr<Heartbeats> heartbeats)
    : storage_(storage), record_(std::move(record)), heartbeats_(std::move(heartbeats)) {
  if (heartbeats_) heartbeats_->add(record_.id);
}

Trial& Trial::operator=(Trial&& other) noexcept {
  if (this != &other) {
    stop_heartbeats();
    storage_ = other.storage_;
    record_ = std::move(other.record_);
    heartbeats_ = std::move(other.heartbeats_);
  }
  return *this;
}

Trial::~Trial() { stop_heartbeats(); }

void Trial::stop_heartbeats() noexcept {
  if (heartbeats_) heartbeats_->remove(record_.id);
  heartbeats_.reset();
}

Study::Study(storage::Storage* storage, storage::StudyRecord record, space::SearchSpace space)
    : storage_(storage),
      record_(std::move(record)),
      space_(std::move(space)),
      heartbeats_(std::make_shared<Heartbeats>(*storage)) {}

void Study::set_heartbeat_interval(double seconds) { heartbeats_->set_interval(seconds); }

void Trial::report(int64_t step, double value) {
  MD_CHECK(std::isfinite(value), "trial ", record_.number, ": intermediate value at step ", step,
           " is not finite (", value, ")");
  storage_->report_intermediate(record_.id, step, value);
  record_.intermediate[step] = value;
}

Study Study::create_or_load(storage::Storage& storage, const std::string& name, const space::SearchSpace& space,
                            Direction direction, const nlohmann::json& attrs) {
  MD_CHECK(!name.empty(), "a study name must not be empty");
  MD_CHECK(!space.empty(), "study '", name, "': the search space has no parameters");
  auto record = storage.create_or_load_study(name, direction, space.to_json(), attrs);
  MD_CHECK(record.direction == direction, "study '", name, "' already exists with direction ",
           to_string(record.direction), ", not ", to_string(direction), "; use another study name");
  auto stored = space::SearchSpace::from_json(record.space);
  MD_CHECK(stored == space, "study '", name, "' already exists with another search space (stored: ",
           record.space.dump(), "); use another study name or the same space");
  return Study(&storage, std::move(record), std::move(stored));
}

Study Study::load(storage::Storage& storage, const std::string& name) {
  auto record = storage.find_study(name);
  if (!record) {
    std::string known;
    for (const auto& s : storage.list_studies()) known += (known.empty() ? "" : ", ") + s.name;
    throw InvalidArgument(detail::concat("no study named '", name, "' in this storage (",
                                         known.empty() ? "it holds none" : "it holds: " + known, ")"));
  }
  auto space = space::SearchSpace::from_json(record->space);
  return Study(&storage, std::move(*record), std::move(space));
}

std::vector<FrozenTrial> Study::trials() const { return storage_->trials(record_.id); }

std::optional<FrozenTrial> Study::best_trial(int fidelity) const {
  std::optional<FrozenTrial> best;
  for (auto& t : trials()) {
    if (!t.is_complete() || (fidelity >= 0 && t.fidelity != fidelity)) continue;
    if (!best || better(record_.direction, *t.value, *best->value)) best = std::move(t);
  }
  return best;
}

Trial Study::ask(optim::Sampler& sampler, uint64_t seed, const std::vector<objective::Fidelity>& fidelities,
                 double budget_left) {
  MD_CHECK(!fidelities.empty(), "an objective needs at least one fidelity");
  return suggest(storage_->create_trial(record_.id, this_worker()), sampler, seed, fidelities, budget_left);
}

std::optional<Trial> Study::ask_within(const storage::TrialBudget& budget, optim::Sampler& sampler, uint64_t seed,
                                       const std::vector<objective::Fidelity>& fidelities,
                                       storage::TrialCounts* counts) {
  MD_CHECK(!fidelities.empty(), "an objective needs at least one fidelity");
  storage::Reservation r = storage_->reserve_trial(record_.id, this_worker(), budget);
  if (counts != nullptr) *counts = r.counts;
  if (!r.trial) return std::nullopt;
  return suggest(std::move(*r.trial), sampler, seed, fidelities, budget.max_cost - r.counts.cost);
}

void Study::HistoryCache::update(storage::Storage& storage, int64_t study_id) {
  // Only the trials changed since the last call are read. A new trial is (almost always) numbered
  // after every cached one and is appended; a changed one (running -> complete) is replaced in
  // place; one that arrives out of order (a gap filled later) is inserted where it belongs.
  storage::TrialChanges changes = storage.trials_changed_since(study_id, cursor);
  for (auto& t : changes.trials) {
    if (trials.empty() || trials.back().number < t.number) {
      trials.push_back(std::move(t));
      continue;
    }
    auto it = std::lower_bound(trials.begin(), trials.end(), t.number,
                               [](const FrozenTrial& a, int64_t n) { return a.number < n; });
    if (it != trials.end() && it->number == t.number) {
      *it = std::move(t);
    } else {
      trials.insert(it, std::move(t));
    }
  }
  cursor = changes.cursor;
}

std::span<const FrozenTrial> Study::HistoryCache::before(int64_t number) const {
  auto end = std::lower_bound(trials.begin(), trials.end(), number,
                              [](const FrozenTrial& a, int64_t n) { return a.number < n; });
  return {trials.data(), static_cast<size_t>(end - trials.begin())};
}

std::optional<storage::QueuedTrial> Study::enqueue(const space::Config& params, int fidelity, bool skip_if_present) {
  MD_CHECK(fidelity >= 0, "study '", record_.name, "': enqueue: fidelity ", fidelity, " must be >= 0");
  space::Config normalized;
  for (const auto& [name, value] : params) {
    const auto& ps = space_.params();
    const auto it = std::find_if(ps.begin(), ps.end(), [&](const space::Parameter& p) { return p.name == name; });
    if (it == ps.end()) {
      std::string known;
      for (const auto& p : ps) known += (known.empty() ? "" : ", ") + p.name;
      throw InvalidArgument(detail::concat("parameter '", name, "' is not in the search space of study '", record_.name,
                                           "' (its parameters: ", known, ")"));
    }
    space::Value v = value;
    if (std::holds_alternative<space::FloatParam>(it->dist)) {
      if (const auto* n = std::get_if<int64_t>(&value)) v = static_cast<double>(*n);
    } else if (std::holds_alternative<space::IntParam>(it->dist)) {
      const auto* d = std::get_if<double>(&value);
      if (d != nullptr && std::floor(*d) == *d && std::fabs(*d) < 9007199254740992.0) v = static_cast<int64_t>(*d);
    }
    normalized.emplace(name, std::move(v));
  }
  space_.encode(normalized);  // every parameter there, of its type, within its bounds
  return storage_->enqueue_trial(record_.id, normalized, fidelity, skip_if_present, -1);
}

std::vector<storage::QueuedTrial> Study::queued() const { return storage_->queued_trials(record_.id); }

Trial Study::suggest(FrozenTrial record, optim::Sampler& sampler, uint64_t seed,
                     const std::vector<objective::Fidelity>& fidelities, double budget_left) {
  if (!record.params.empty()) {
    // A queued configuration (enqueue()): the storage set it when it created the trial.
    if (record.fidelity >= static_cast<int>(fidelities.size())) {
      const std::string reason = detail::concat("queued at fidelity ", record.fidelity, ", but the objective has ",
                                                fidelities.size(), " fidelities");
      storage_->finish_trial(record.id, TrialState::kFailed, std::nullopt, 0.0, reason);
      throw InvalidArgument(detail::concat("study '", record_.name, "': trial ", record.number, " ", reason));
    }
    return Trial(storage_, std::move(record), heartbeats_);
  }
  optim::SamplerContext ctx;
  ctx.space = &space_;
  ctx.direction = record_.direction;
  ctx.fidelities = fidelities;
  ctx.trial_number = record.number;
  ctx.seed = derive_seed(seed, {static_cast<uint64_t>(record.number)});
  ctx.study_seed = seed;
  ctx.budget_left = budget_left;
  optim::Suggestion s;
  try {
    {
      // A sampler that needs no history is shown none, and the storage is not asked for changes.
      std::lock_guard lock(cache_->mu);
      std::span<const FrozenTrial> history;
      if (sampler.uses_history()) {
        cache_->update(*storage_, record_.id);
        history = cache_->before(record.number);
      }
      s = sampler.suggest(ctx, history);
    }
    if (s.fidelity < 0) s.fidelity = ctx.target_fidelity();
    MD_CHECK(s.fidelity < static_cast<int>(fidelities.size()), "sampler '", sampler.name(), "' chose fidelity ",
             s.fidelity, " but the objective has ", fidelities.size());
    space_.encode(s.config);  // validates the proposal against the space
    storage_->set_trial_params(record.id, s.config, s.fidelity);
  } catch (const std::exception& e) {
    storage_->finish_trial(record.id, TrialState::kFailed, std::nullopt, 0.0,
                           std::string("sampler '") + sampler.name() + "' failed: " + e.what());
    throw;
  }
  record.params = std::move(s.config);
  record.fidelity = s.fidelity;
  return Trial(storage_, std::move(record), heartbeats_);
}

void Study::tell(Trial& trial, double value, double cost) {
  if (!std::isfinite(value)) {
    tell_failed(trial, detail::concat("objective returned ", value), cost);
    return;
  }
  trial.stop_heartbeats();
  storage_->finish_trial(trial.id(), TrialState::kComplete, value, cost, "");
}

void Study::tell_pruned(Trial& trial, double cost) {
  std::optional<double> last;
  if (!trial.record().intermediate.empty()) last = trial.record().intermediate.rbegin()->second;
  trial.stop_heartbeats();
  storage_->finish_trial(trial.id(), TrialState::kPruned, last, cost, "");
}

void Study::tell_failed(Trial& trial, const std::string& reason, double cost) {
  trial.stop_heartbeats();
  storage_->finish_trial(trial.id(), TrialState::kFailed, std::nullopt, cost, reason);
}

bool Study::should_prune(const optim::Pruner& pruner, const optim::PrunerContext& ctx, const Trial& trial) {
  if (!pruner.prunes()) return false;
  std::lock_guard lock(prune_cache_->mu);
  prune_cache_->update(*storage_, record_.id);
  return pruner.should_prune(ctx, trial.record(), prune_cache_->trials);
}

int Study::fail_abandoned_trials(double heartbeat_timeout_s, int retry_failed) {
  MD_CHECK(retry_failed >= 0, "retry_failed must be >= 0 (got ", retry_failed, ")");
  int n = 0;
  const double now = now_unix_seconds();
  for (const auto& t : storage_->running_trials(record_.id)) {
    std::string reason;
    if (local_worker_is_gone(t.worker)) {
      reason = "worker " + t.worker + " died while running this trial";
    } else if (t.worker != this_worker() && now - std::max(t.heartbeat_at, t.started_at) > heartbeat_timeout_s) {
      reason = detail::concat("worker ", t.worker, " stopped sending heartbeats (silent for ",
                              static_cast<int64_t>(now - std::max(t.heartbeat_at, t.started_at)), " s)");
    }
    if (reason.empty()) continue;
    // Whether to re-run it: the retries of its chain so far, counted in the history ask() keeps
    // (only the changes are read).
    const int64_t first = t.retry_of >= 0 ? t.retry_of : t.number;
    bool retry = false;
    if (retry_failed > 0 && !t.params.empty()) {
      int64_t retries = 0;
      std::lock_guard lock(cache_->mu);
      cache_->update(*storage_, record_.id);
      for (const auto& other : cache_->trials) retries += other.retry_of == first ? 1 : 0;
      retry = retries < retry_failed;
    }
    try {
      // The fail and its retry's queue entry in one transaction: only the worker whose fail took
      // effect queues it, once, and a crash cannot keep the one without the other.
      if (retry) {
        storage_->fail_and_retry(t.id, reason, first);
      } else {
        storage_->finish_trial(t.id, TrialState::kFailed, std::nullopt, 0.0, reason);
      }
      ++n;
    } catch (const StorageError&) {
      // Another process finished or failed it meanwhile: nothing to do.
      continue;
    }
  }
  return n;
}

}  // namespace metadial::study
