#include "metadial/storage/in_memory.h"

#include <algorithm>

#include "metadial/core/error.h"
#include "metadial/core/text.h"
#include "storage/detail/checks.h"

namespace metadial::storage {

using study::FrozenTrial;
using study::TrialState;

InMemoryStorage::StudyEntry& InMemoryStorage::study_locked(int64_t study_id) {
  auto it = studies_.find(study_id);
  MD_CHECK_AS(StorageError, it != studies_.end(), "no study with id ", study_id, " in the in-memory storage");
  return it->second;
}

InMemoryStorage::TrialEntry& InMemoryStorage::trial_locked(int64_t trial_id) {
  auto it = trials_.find(trial_id);
  MD_CHECK_AS(StorageError, it != trials_.end(), "no trial with id ", trial_id, " in the in-memory storage");
  return it->second;
}

std::string InMemoryStorage::describe_locked(const TrialEntry& t) const {
  return detail::describe_trial(t.record.number, studies_.at(t.study_id).record.name);
}

int64_t InMemoryStorage::study_id_locked(const std::string& name) const {
  auto it = study_ids_.find(name);
  if (it != study_ids_.end()) return it->second;
  std::vector<std::string> stored;
  for (const auto& [id, s] : studies_) stored.push_back(s.record.name);
  throw StorageError(detail::no_study_message(name, "the in-memory storage", stored));
}

StudyRecord InMemoryStorage::create_or_load_study(const std::string& name, study::Direction direction,
                                                  const nlohmann::json& space, const nlohmann::json& attrs) {
  detail::check_study_name(name);
  std::lock_guard lock(mu_);
  if (auto it = study_ids_.find(name); it != study_ids_.end()) return studies_.at(it->second).record;
  detail::check_new_study_name(name);
  StudyRecord r;
  r.id = next_study_id_++;
  r.name = name;
  r.direction = direction;
  r.space = space;
  r.attrs = attrs;
  r.created_at = study::now_unix_seconds();
  studies_[r.id].record = r;
  study_ids_[name] = r.id;
  return r;
}

std::optional<StudyRecord> InMemoryStorage::find_study(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = study_ids_.find(name);
  if (it == study_ids_.end()) return std::nullopt;
  return studies_.at(it->second).record;
}

std::vector<StudyRecord> InMemoryStorage::list_studies() {
  std::lock_guard lock(mu_);
  std::vector<StudyRecord> out;
  out.reserve(studies_.size());
  for (const auto& [id, s] : studies_) out.push_back(s.record);
  return out;
}

int64_t InMemoryStorage::delete_study(const std::string& name, IfRunning if_running) {
  detail::check_study_name(name);
  std::lock_guard lock(mu_);
  const int64_t id = study_id_locked(name);
  const StudyEntry& s = studies_.at(id);
  if (if_running == IfRunning::kRefuse) {
    std::vector<int64_t> running;
    for (int64_t trial_id : s.trial_ids) {
      const FrozenTrial& t = trials_.at(trial_id).record;
      if (t.state == TrialState::kRunning) running.push_back(t.number);
    }
    MD_CHECK_AS(StorageError, running.empty(), detail::running_trials_message(name, running));
  }
  const auto n = static_cast<int64_t>(s.trial_ids.size());
  for (int64_t trial_id : s.trial_ids) trials_.erase(trial_id);
  studies_.erase(id);
  study_ids_.erase(name);
  return n;
}

StudyRecord InMemoryStorage::rename_study(const std::string& from, const std::string& to) {
  detail::check_rename(from, to);
  std::lock_guard lock(mu_);
  const int64_t id = study_id_locked(from);
  MD_CHECK_AS(StorageError, !study_ids_.contains(to),
              detail::rename_target_exists_message(from, to, "the in-memory storage"));
  StudyRecord& r = studies_.at(id).record;
  r.name = to;
  study_ids_.erase(from);
  study_ids_.emplace(to, id);
  return r;
}

void InMemoryStorage::touch_locked(StudyEntry& s, TrialEntry& t) {
  if (t.seq > 0) s.changes.erase(t.seq);
  t.seq = ++change_seq_;
  s.changes.emplace(t.seq, t.record.number);
}

Reservation InMemoryStorage::reserve_trial(int64_t study_id, const std::string& worker, const TrialBudget& budget) {
  std::lock_guard lock(mu_);
  StudyEntry& s = study_locked(study_id);
  Reservation r;
  r.counts = s.counts;
  if (!detail::budget_allows(budget, r.counts)) return r;
  TrialEntry t;
  t.study_id = study_id;
  t.record.id = next_trial_id_++;
  t.record.number = static_cast<int64_t>(s.trial_ids.size());
  t.record.state = TrialState::kRunning;
  t.record.worker = text::valid_utf8(worker);
  t.record.started_at = study::now_unix_seconds();
  t.record.heartbeat_at = t.record.started_at;
  if (!s.queue.empty()) {
    t.record.params = std::move(s.queue.front().params);
    t.record.fidelity = s.queue.front().fidelity;
    t.record.retry_of = s.queue.front().retry_of;
    t.params_set = true;
    s.queue.pop_front();
  }
  touch_locked(s, t);
  detail::add_to_counts(s.counts, TrialState::kRunning, 0.0, +1);
  s.trial_ids.push_back(t.record.id);
  trials_.emplace(t.record.id, t);
  r.trial = t.record;
  return r;
}

std::optional<QueuedTrial> InMemoryStorage::enqueue_trial(int64_t study_id, const space::Config& params, int fidelity,
                                                          bool skip_if_present, int64_t retry_of) {
  detail::check_params(params, fidelity);
  detail::check_retry_of(retry_of);
  std::lock_guard lock(mu_);
  StudyEntry& s = study_locked(study_id);
  if (skip_if_present) {
    for (const QueuedTrial& q : s.queue) {
      if (q.params == params && q.fidelity == fidelity) return std::nullopt;
    }
    for (int64_t id : s.trial_ids) {
      const TrialEntry& t = trials_.at(id);
      if (t.params_set && t.record.state != TrialState::kFailed && t.record.params == params &&
          t.record.fidelity == fidelity) {
        return std::nullopt;
      }
    }
  }
  QueuedTrial q;
  q.id = next_queued_id_++;
  q.params = params;
  q.fidelity = fidelity;
  q.queued_at = study::now_unix_seconds();
  q.retry_of = retry_of;
  s.queue.push_back(q);
  return q;
}

std::vector<QueuedTrial> InMemoryStorage::queued_trials(int64_t study_id) {
  std::lock_guard lock(mu_);
  const StudyEntry& s = study_locked(study_id);
  return {s.queue.begin(), s.queue.end()};
}

void InMemoryStorage::set_trial_params(int64_t trial_id, const space::Config& params, int fidelity) {
  detail::check_params(params, fidelity);
  std::lock_guard lock(mu_);
  TrialEntry& t = trial_locked(trial_id);
  MD_CHECK_AS(StorageError, !t.record.is_finished(),
              detail::set_params_finished_message(describe_locked(t), t.record.state));
  MD_CHECK_AS(StorageError, !t.params_set, detail::params_already_set_message(describe_locked(t)));
  t.record.params = params;
  t.record.fidelity = fidelity;
  t.params_set = true;
  touch_locked(studies_.at(t.study_id), t);
}

void InMemoryStorage::report_intermediate(int64_t trial_id, int64_t step, double value) {
  detail::check_intermediate(step, value);
  std::lock_guard lock(mu_);
  TrialEntry& t = trial_locked(trial_id);
  MD_CHECK_AS(StorageError, !t.record.is_finished(),
              detail::report_finished_message(describe_locked(t), step, t.record.state));
  t.record.intermediate[step] = value;
  t.record.heartbeat_at = study::now_unix_seconds();
  touch_locked(studies_.at(t.study_id), t);
}

void InMemoryStorage::heartbeat(int64_t trial_id) {
  std::lock_guard lock(mu_);
  TrialEntry& t = trial_locked(trial_id);
  MD_CHECK_AS(StorageError, !t.record.is_finished(),
              detail::heartbeat_finished_message(describe_locked(t), t.record.state));
  t.record.heartbeat_at = study::now_unix_seconds();
}

void InMemoryStorage::finish_trial(int64_t trial_id, TrialState state, std::optional<double> value, double cost,
                                   const std::string& fail_reason) {
  detail::check_finish(state, value, cost);
  std::lock_guard lock(mu_);
  TrialEntry& t = trial_locked(trial_id);
  MD_CHECK_AS(StorageError, !t.record.is_finished(),
              detail::already_finished_message(describe_locked(t), t.record.state));
  finish_locked(t, state, value, cost, fail_reason);
}

void InMemoryStorage::finish_locked(TrialEntry& t, TrialState state, std::optional<double> value, double cost,
                                    const std::string& fail_reason) {
  t.record.state = state;
  t.record.value = value;
  t.record.cost = cost;
  t.record.fail_reason = text::valid_utf8(fail_reason);
  t.record.finished_at = study::now_unix_seconds();
  StudyEntry& s = studies_.at(t.study_id);
  touch_locked(s, t);
  detail::add_to_counts(s.counts, TrialState::kRunning, 0.0, -1);
  detail::add_to_counts(s.counts, state, cost, +1);
}

void InMemoryStorage::fail_and_retry(int64_t trial_id, const std::string& fail_reason, int64_t retry_of) {
  detail::check_retry_of(retry_of);
  MD_CHECK(retry_of >= 0, "fail_and_retry: retry_of is ", retry_of, "; it must be a trial number");
  std::lock_guard lock(mu_);
  TrialEntry& t = trial_locked(trial_id);
  MD_CHECK_AS(StorageError, !t.record.is_finished(),
              detail::already_finished_message(describe_locked(t), t.record.state));
  MD_CHECK_AS(StorageError, t.params_set, detail::retry_without_params_message(describe_locked(t)));
  finish_locked(t, TrialState::kFailed, std::nullopt, 0.0, fail_reason);
  StudyEntry& s = studies_.at(t.study_id);
  QueuedTrial q;
  q.id = next_queued_id_++;
  q.params = t.record.params;
  q.fidelity = t.record.fidelity;
  q.queued_at = t.record.finished_at;
  q.retry_of = retry_of;
  s.queue.push_back(q);
}

void InMemoryStorage::set_trial_times(int64_t trial_id, double started_at, double finished_at) {
  detail::check_times(started_at, finished_at);
  std::lock_guard lock(mu_);
  TrialEntry& t = trial_locked(trial_id);
  MD_CHECK_AS(StorageError, t.record.is_finished(), detail::times_of_running_message(describe_locked(t)));
  t.record.started_at = started_at;
  t.record.finished_at = finished_at;
  t.record.heartbeat_at = finished_at;
}

std::vector<FrozenTrial> InMemoryStorage::trials(int64_t study_id) {
  std::lock_guard lock(mu_);
  const StudyEntry& s = study_locked(study_id);
  std::vector<FrozenTrial> out;
  out.reserve(s.trial_ids.size());
  for (int64_t id : s.trial_ids) out.push_back(trials_.at(id).record);
  return out;
}

std::vector<FrozenTrial> InMemoryStorage::running_trials(int64_t study_id) {
  std::lock_guard lock(mu_);
  std::vector<FrozenTrial> out;
  for (int64_t id : study_locked(study_id).trial_ids) {
    const FrozenTrial& t = trials_.at(id).record;
    if (t.state != TrialState::kRunning) continue;
    out.push_back(t);
    out.back().intermediate.clear();
  }
  return out;
}

TrialCounts InMemoryStorage::count_trials(int64_t study_id) {
  std::lock_guard lock(mu_);
  return study_locked(study_id).counts;
}

TrialChanges InMemoryStorage::trials_changed_since(int64_t study_id, int64_t cursor) {
  std::lock_guard lock(mu_);
  const StudyEntry& s = study_locked(study_id);
  std::vector<int64_t> numbers;
  for (auto it = s.changes.upper_bound(cursor); it != s.changes.end(); ++it) numbers.push_back(it->second);
  std::sort(numbers.begin(), numbers.end());
  TrialChanges c;
  c.trials.reserve(numbers.size());
  for (int64_t number : numbers) c.trials.push_back(trials_.at(s.trial_ids[static_cast<size_t>(number)]).record);
  c.cursor = change_seq_;
  return c;
}

FrozenTrial InMemoryStorage::trial(int64_t trial_id) {
  std::lock_guard lock(mu_);
  return trial_locked(trial_id).record;
}

}  // namespace metadial::storage
