// The `_metadial` extension module: the study engine (storage, Study, Trial, optimize() on the
// C++ runner's threads calling back into Python), the sampler registries, one sampler proposal on
// a given history without a storage (`_suggest`, for metadial.optuna), the dialogue environment
// (`_Env`, `_VectorEnv`, for metadial.dialog) and the error hierarchy, for the pure-Python package
// `metadial` (python/metadial/) that wraps it. Everything a user can get wrong is checked by the C++ code it calls (the
// registries' option readers, SearchSpace::add, open_storage); this file only converts.
//
// The GIL is released during every call into the engine that may take long (opening a storage,
// asking a sampler, reading trials, writing results), and held while Python objects are touched.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/env.h"
#include "metadial/dialog/render.h"
#include "metadial/objective/objective.h"
#include "metadial/optim/sampler.h"
#include "metadial/space/search_space.h"
#include "metadial/storage/storage.h"
#include "metadial/study/study.h"
#include "metadial/study/trial.h"
#if METADIAL_PYTHON_WITH_TORCH
#include "metadial/nn/threads.h"
#include "metadial/optim/hyprl/sampler.h"
#include "metadial/optim/learned/sampler.h"
#endif

namespace py = pybind11;

namespace metadial::python {
namespace {

/// A Python value (None, bool, int, float, str, list/tuple, dict with str keys) as JSON.
nlohmann::json to_json(const py::handle& h, const std::string& where) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) return h.cast<int64_t>();
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& item : h) arr.push_back(to_json(item, where));
    return arr;
  }
  if (py::isinstance<py::dict>(h)) {
    nlohmann::json obj = nlohmann::json::object();
    for (const auto& [k, v] : h.cast<py::dict>()) {
      MD_CHECK(py::isinstance<py::str>(k), where, ": keys must be strings, got ", py::str(py::repr(k)).cast<std::string>());
      const auto key = k.cast<std::string>();
      obj[key] = to_json(v, where + "." + key);
    }
    return obj;
  }
  throw InvalidArgument(detail::concat(where, ": cannot use a value of type ",
                                       py::str(py::type::of(h).attr("__name__")).cast<std::string>(),
                                       " (expected None, bool, int, float, str, list or dict)"));
}

/// The search space of a dict {name: {"type": ..., ...}} shaped like the TOML [space] tables.
/// Bounds and choices are checked by SearchSpace::add (space::validate).
space::SearchSpace space_from_dict(const py::dict& d) {
  space::SearchSpace space;
  MD_CHECK(!d.empty(), "space defines no parameter");
  for (const auto& [k, v] : d) {
    MD_CHECK(py::isinstance<py::str>(k), "space: parameter names must be strings");
    const auto name = k.cast<std::string>();
    const std::string where = "space parameter '" + name + "'";
    MD_CHECK(py::isinstance<py::dict>(v), where, ": expected a dict like {\"type\": \"float\", \"low\": 0, \"high\": 1}");
    const nlohmann::json p = to_json(v, where);
    const auto type_it = p.find("type");
    MD_CHECK(type_it != p.end() && type_it->is_string(), where,
             ": missing \"type\" (one of \"float\", \"int\", \"categorical\")");
    const std::string type = type_it->get<std::string>();
    auto allow = [&](std::initializer_list<const char*> keys) {
      for (const auto& [key, _] : p.items()) {
        bool ok = false;
        for (const char* a : keys) ok = ok || key == a;
        MD_CHECK(ok, where, ": unknown key '", key, "' for type ", type);
      }
    };
    auto number = [&](const char* key) {
      const auto it = p.find(key);
      MD_CHECK(it != p.end(), where, ": missing \"", key, "\"");
      MD_CHECK(it->is_number(), where, ": \"", key, "\" must be a number, got ", it->dump());
      return *it;
    };
    auto flag = [&](const char* key) {
      const auto it = p.find(key);
      if (it == p.end()) return false;
      MD_CHECK(it->is_boolean(), where, ": \"", key, "\" must be true or false, got ", it->dump());
      return it->get<bool>();
    };
    auto integer = [&](const char* key, std::optional<int64_t> fallback) -> int64_t {
      if (fallback && !p.contains(key)) return *fallback;
      const auto j = number(key);
      MD_CHECK(j.is_number_integer(), where, ": \"", key, "\" must be an integer, got ", j.dump());
      return j.get<int64_t>();
    };
    if (type == "float") {
      allow({"type", "low", "high", "log"});
      space.add(name, space::FloatParam{number("low").get<double>(), number("high").get<double>(), flag("log")});
    } else if (type == "int") {
      allow({"type", "low", "high", "step", "log"});
      space.add(name, space::IntParam{integer("low", std::nullopt), integer("high", std::nullopt), integer("step", 1),
                                      flag("log")});
    } else if (type == "categorical") {
      allow({"type", "choices"});
      const auto it = p.find("choices");
      MD_CHECK(it != p.end() && it->is_array(), where, ": missing \"choices\" (a list of strings)");
      std::vector<std::string> choices;
      for (const auto& c : *it) {
        MD_CHECK(c.is_string(), where, ": choices must be strings, got ", c.dump());
        choices.push_back(c.get<std::string>());
      }
      space.add(name, space::CategoricalParam{std::move(choices)});
    } else {
      throw InvalidArgument(detail::concat(where, ": unknown type '", type,
                                           "' (expected \"float\", \"int\" or \"categorical\")"));
    }
  }
  return space;
}

#if METADIAL_PYTHON_WITH_TORCH
/// Issue 17, item 5: metadial's thread setting applies only inside its calls. A LibTorch sampler
/// suggests with one intra-op thread (its networks are small; a study parallelizes over trials)
/// and the caller's setting is restored afterwards. One such suggestion at a time in the process,
/// so that two samplers never restore each other's setting.
class OneTorchThread final : public optim::Sampler {
 public:
  explicit OneTorchThread(std::unique_ptr<optim::Sampler> inner) : inner_(std::move(inner)) {}
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const study::FrozenTrial> history) override {
    static std::mutex mu;
    std::lock_guard lock(mu);
    const int before = nn::torch_threads();
    nn::set_torch_threads(1);
    try {
      optim::Suggestion s = inner_->suggest(ctx, history);
      nn::set_torch_threads(before);
      return s;
    } catch (...) {
      nn::set_torch_threads(before);
      throw;
    }
  }
  std::string name() const override { return inner_->name(); }
  bool uses_history() const override { return inner_->uses_history(); }

 private:
  std::unique_ptr<optim::Sampler> inner_;
};
#endif

const optim::SamplerRegistry& sampler_registry() {
  static const optim::SamplerRegistry registry = [] {
    optim::SamplerRegistry r;
    optim::register_builtin_samplers(r);
#if METADIAL_PYTHON_WITH_TORCH
    static optim::SamplerRegistry torch_samplers;
    optim::hyprl::register_hyprl_sampler(torch_samplers);
    optim::learned::register_learned_samplers(torch_samplers);
    for (const std::string& name : torch_samplers.names()) {
      r.add(name, [name](const optim::SamplerOptions& o) -> std::unique_ptr<optim::Sampler> {
        return std::make_unique<OneTorchThread>(torch_samplers.create(name, o));
      });
    }
#endif
    return r;
  }();
  return registry;
}

/// A sampler made by the registry. Suggestions of one sampler run one at a time (the study's
/// history lock already serializes asks of one study; this covers one sampler shared by studies).
struct SamplerHandle {
  std::unique_ptr<optim::Sampler> sampler;
  std::mutex mu;
};

/// A storage and one study in it: the Python `_Study`. Trials keep it alive.
struct StudyHandle {
  std::unique_ptr<storage::Storage> storage;
  std::optional<study::Study> study;
};

struct TrialHandle {
  std::shared_ptr<StudyHandle> owner;
  std::optional<study::Trial> trial;
  bool finished = false;

  study::Trial& live() {
    MD_CHECK(trial && !finished, "trial ", trial ? trial->number() : -1, " is already finished");
    return *trial;
  }
};

py::dict record_to_dict(const study::FrozenTrial& t) {
  py::dict d;
  d["number"] = t.number;
  d["id"] = t.id;
  d["state"] = study::to_string(t.state);
  d["params"] = py::cast(t.params);
  d["fidelity"] = t.fidelity;
  d["value"] = t.value ? py::cast(*t.value) : py::none();
  d["cost"] = t.cost;
  d["intermediate"] = py::cast(t.intermediate);
  d["fail_reason"] = t.fail_reason;
  d["worker"] = t.worker;
  d["started_at"] = t.started_at;
  d["finished_at"] = t.finished_at;
  d["retry_of"] = t.retry_of >= 0 ? py::cast(t.retry_of) : py::none();
  return d;
}

std::vector<objective::Fidelity> fidelities_from(const std::vector<std::pair<std::string, double>>& f) {
  if (f.empty()) return {objective::Fidelity{"full", 1.0}};
  std::vector<objective::Fidelity> out;
  for (const auto& [name, cost] : f) {
    MD_CHECK(std::isfinite(cost) && cost > 0, "fidelity '", name, "': cost must be positive and finite, got ", cost);
    out.push_back(objective::Fidelity{name, cost});
  }
  return out;
}


/// A configuration given by Python, read by the types of `space`: a float, int or categorical
/// (str) value for every parameter; checked against the bounds by SearchSpace::encode.
space::Config config_from(const py::handle& h, const space::SearchSpace& space, const std::string& where) {
  MD_CHECK(py::isinstance<py::dict>(h), where, ": params must be a dict");
  const auto d = h.cast<py::dict>();
  space::Config config;
  for (const auto& p : space.params()) {
    MD_CHECK(d.contains(p.name), where, ": missing parameter '", p.name, "'");
    const py::object v = d[py::str(p.name)];
    try {
      if (std::holds_alternative<space::FloatParam>(p.dist)) {
        config[p.name] = v.cast<double>();
      } else if (std::holds_alternative<space::IntParam>(p.dist)) {
        MD_CHECK(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), where, ": parameter '", p.name,
                 "' must be an int, got ", py::str(py::repr(v)).cast<std::string>());
        config[p.name] = v.cast<int64_t>();
      } else {
        config[p.name] = v.cast<std::string>();
      }
    } catch (const py::cast_error&) {
      throw InvalidArgument(detail::concat(where, ": parameter '", p.name, "' has a value of the wrong type: ",
                                           py::str(py::repr(v)).cast<std::string>()));
    }
  }
  MD_CHECK(d.size() == space.size(), where, ": ", d.size(), " params for a space of ", space.size());
  space.encode(config);  // bounds, choices
  return config;
}

/// A sampler of a SamplerHandle behind its mutex, for the study runner's threads.
class LockedSampler final : public optim::Sampler {
 public:
  explicit LockedSampler(SamplerHandle& h) : h_(h) {}
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const study::FrozenTrial> history) override {
    std::lock_guard lock(h_.mu);
    return h_.sampler->suggest(ctx, history);
  }
  std::string name() const override { return h_.sampler->name(); }
  bool uses_history() const override { return h_.sampler->uses_history(); }

 private:
  SamplerHandle& h_;
};

/// The trial a Python objective sees inside `optimize(jobs=...)`: its params and fidelity, and
/// report() through the runner's reporter while the evaluation lasts.
struct RunTrial {
  int64_t number = -1;
  space::Config params;
  int fidelity = 0;
  objective::Reporter* reporter = nullptr;  // null once the evaluation returned
};

/// An objective calling a Python function on the runner's threads, with the GIL taken for the
/// call. The function (the package's wrapper) returns ("complete", value, cost),
/// ("pruned", cost), ("failed", reason) or ("stop", reason): the last one fails the trial and
/// ends the run (an exception the caller did not `catch`).
class PythonObjective final : public objective::Objective {
 public:
  PythonObjective(py::object fn, std::vector<objective::Fidelity> fidelities)
      : fn_(std::move(fn)), fidelities_(std::move(fidelities)) {}

  objective::Evaluation evaluate(const space::Config& config, int fidelity, objective::Reporter& reporter) override {
    auto trial = std::make_shared<RunTrial>();
    trial->number = reporter.trial_number();
    trial->params = config;
    trial->fidelity = fidelity;
    trial->reporter = &reporter;
    std::string kind, reason;
    double value = 0.0, cost = 0.0;
    {
      py::gil_scoped_acquire gil;
      try {
        const py::tuple r = fn_(trial).cast<py::tuple>();
        trial->reporter = nullptr;
        kind = r[0].cast<std::string>();
        if (kind == "complete") {
          value = r[1].cast<double>();
          cost = r[2].cast<double>();
        } else if (kind == "pruned") {
          cost = r[1].cast<double>();
        } else {
          reason = r[1].cast<std::string>();
        }
      } catch (py::error_already_set& e) {  // a bug of the wrapper: fail the trial, end the run
        trial->reporter = nullptr;
        kind = "stop";
        reason = e.what();
      }
    }
    if (kind == "complete") return objective::Evaluation{value, cost};
    if (kind == "pruned") throw TrialPruned("pruned by the objective", cost);
    if (kind == "stop") stop_ = true;
    throw Error(reason);
  }
  std::vector<objective::Fidelity> fidelities() const override { return fidelities_; }
  std::string name() const override { return "python"; }
  bool stop_requested() const { return stop_; }

 private:
  py::object fn_;
  std::vector<objective::Fidelity> fidelities_;
  std::atomic<bool> stop_{false};
};

/// Thrown by the progress callback to end optimize() after a "stop" result.
struct StopRun : std::exception {};

/// The dialogue domain of `metadial.dialog.Env`: a built-in one by name, or an ontology file.
std::shared_ptr<const dialog::Domain> make_domain(const std::string& domain, const std::string& ontology,
                                                  int kb_entities, uint64_t kb_seed) {
  MD_CHECK(kb_entities >= 1, "kb_entities must be >= 1, got ", kb_entities);
  const dialog::KbOptions kb{kb_entities, kb_seed};
  if (!ontology.empty()) return dialog::Domain::load(ontology, kb);
  return dialog::Domain::builtin(domain, kb);
}

/// One simulated user for Python: dialogue k after reset(seed=S) is the C++ env's reset with
/// derive_seed(S, {k}), the seed `metadial dialog eval/show --seed S` gives its dialogue k.
struct EnvHandle {
  std::shared_ptr<const dialog::Domain> domain;
  std::unique_ptr<dialog::DialogueEnv> env;
  uint64_t seed = 0;
  uint64_t dialogue = 0;  ///< dialogues started since the last seeded reset
  bool closed = false;

  dialog::DialogueEnv& live(const char* what) {
    MD_CHECK(!closed, "Env.", what, ": the env is closed");
    return *env;
  }
  std::span<const float> reset() { return env->reset(derive_seed(seed, {dialogue++})); }
};

/// The step ended by the turn limit rather than by the user or a bye (Gymnasium's truncation).
bool truncated(const dialog::DialogueEnv& env) {
  return env.done() && env.turn() >= env.options().max_turns && !env.user().finished() &&
         env.last_turn().system_act.type != dialog::SystemActType::kBye;
}

py::array_t<float> float_array(std::span<const float> v) {
  py::array_t<float> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

py::array_t<bool> mask_array(std::span<const uint8_t> m) {
  py::array_t<bool> a(static_cast<py::ssize_t>(m.size()));
  bool* out = a.mutable_data();
  for (size_t i = 0; i < m.size(); ++i) out[i] = m[i] != 0;
  return a;
}

/// n simulated users stepped together without the GIL (one thread), with autoreset: env i is
/// EnvHandle with seed S + i after reset(seed=S) (Gymnasium's vector convention).
struct VectorEnvHandle {
  std::shared_ptr<const dialog::Domain> domain;
  std::vector<EnvHandle> envs;
  bool closed = false;

  void check(const char* what) const { MD_CHECK(!closed, "VectorEnv.", what, ": the env is closed"); }
  int n() const { return static_cast<int>(envs.size()); }
  int obs_size() const { return envs.front().env->observation_size(); }
  int num_actions() const { return envs.front().env->num_actions(); }
};
}  // namespace
}  // namespace metadial::python

PYBIND11_MODULE(_metadial, m) {
  using namespace metadial;
  using namespace metadial::python;
  m.doc() = "metadial's study engine and samplers (use the `metadial` package, not this module)";
  m.attr("__version__") = METADIAL_VERSION;

  // Registered root first: pybind11 tries the translators last-registered first, so a subclass
  // is matched before its root.
  static py::exception<Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<InvalidArgument> invalid(m, "InvalidArgument", error.ptr());
  static py::exception<ConfigError> config(m, "ConfigError", error.ptr());
  static py::exception<DataError> data(m, "DataError", error.ptr());
  static py::exception<StorageError> storage_error(m, "StorageError", error.ptr());
  static py::exception<TrialPruned> pruned(m, "TrialPruned", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const TrialPruned& e) {
      PyErr_SetString(pruned.ptr(), e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(invalid.ptr(), e.what());
    } catch (const ConfigError& e) {
      PyErr_SetString(config.ptr(), e.what());
    } catch (const DataError& e) {
      PyErr_SetString(data.ptr(), e.what());
    } catch (const StorageError& e) {
      PyErr_SetString(storage_error.ptr(), e.what());
    } catch (const Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  m.def("sampler_names", [] { return sampler_registry().names(); },
        "Names of the samplers this module can create.");

  py::class_<SamplerHandle, std::shared_ptr<SamplerHandle>>(m, "_Sampler")
      .def(py::init([](const std::string& name, const py::dict& options) {
             auto h = std::make_shared<SamplerHandle>();
             h->sampler = sampler_registry().create(name, to_json(options, "sampler '" + name + "' options"));
             return h;
           }),
           py::arg("name"), py::arg("options"))
      .def_property_readonly("name", [](const SamplerHandle& h) { return h.sampler->name(); });

  py::class_<TrialHandle, std::shared_ptr<TrialHandle>>(m, "_Trial")
      .def_property_readonly("number", [](const TrialHandle& t) { return t.trial->number(); })
      .def_property_readonly("id", [](const TrialHandle& t) { return t.trial->id(); })
      .def_property_readonly("params", [](const TrialHandle& t) { return t.trial->params(); })
      .def_property_readonly("fidelity", [](const TrialHandle& t) { return t.trial->fidelity(); })
      .def_property_readonly("finished", [](const TrialHandle& t) { return t.finished; })
      .def("report",
           [](TrialHandle& t, int64_t step, double value) {
             study::Trial& live = t.live();
             py::gil_scoped_release release;
             live.report(step, value);
           },
           py::arg("step"), py::arg("value"));

  py::class_<StudyHandle, std::shared_ptr<StudyHandle>>(m, "_Study")
      .def(py::init([](const std::string& url, const std::string& name, const py::dict& space_dict,
                       const std::string& direction) {
             space::SearchSpace space = space_from_dict(space_dict);
             const study::Direction dir = study::direction_from_string(direction);
             auto h = std::make_shared<StudyHandle>();
             py::gil_scoped_release release;
             h->storage = storage::open_storage(url);
             h->study.emplace(study::Study::create_or_load(*h->storage, name, space, dir));
             return h;
           }),
           py::arg("storage"), py::arg("name"), py::arg("space"), py::arg("direction"))
      .def_property_readonly("name", [](const StudyHandle& h) { return h.study->name(); })
      .def_property_readonly("direction", [](const StudyHandle& h) { return study::to_string(h.study->direction()); })
      .def_property_readonly("space_json", [](const StudyHandle& h) { return h.study->space().to_json().dump(); })
      .def("ask",
           [](const std::shared_ptr<StudyHandle>& h, SamplerHandle& s, uint64_t seed,
              const std::vector<std::pair<std::string, double>>& fidelities) {
             auto t = std::make_shared<TrialHandle>();
             t->owner = h;
             const auto f = fidelities_from(fidelities);
             py::gil_scoped_release release;
             std::lock_guard lock(s.mu);
             t->trial.emplace(h->study->ask(*s.sampler, seed, f));
             return t;
           },
           py::arg("sampler"), py::arg("seed"), py::arg("fidelities"))
      .def("tell",
           [](StudyHandle& h, TrialHandle& t, const std::string& state, std::optional<double> value, double cost,
              const std::string& reason) {
             study::Trial& live = t.live();
             MD_CHECK(t.owner.get() == &h, "trial ", live.number(), " belongs to another study");
             MD_CHECK(std::isfinite(cost) && cost >= 0, "cost must be finite and >= 0, got ", cost);
             {
               py::gil_scoped_release release;
               if (state == "complete") {
                 MD_CHECK(value.has_value(), "tell: a complete trial needs a value");
                 h.study->tell(live, *value, cost);
               } else if (state == "pruned") {
                 h.study->tell_pruned(live, cost);
               } else if (state == "failed") {
                 h.study->tell_failed(live, reason, cost);
               } else {
                 throw InvalidArgument("tell: state must be \"complete\", \"pruned\" or \"failed\", got \"" + state +
                                       "\"");
               }
             }
             t.finished = true;
           },
           py::arg("trial"), py::arg("state"), py::arg("value"), py::arg("cost"), py::arg("reason"))
      .def("trials",
           [](StudyHandle& h) {
             std::vector<study::FrozenTrial> ts;
             {
               py::gil_scoped_release release;
               ts = h.study->trials();
             }
             py::list out;
             for (const auto& t : ts) out.append(record_to_dict(t));
             return out;
           })
      .def("best_trial", [](StudyHandle& h, int fidelity) -> py::object {
        std::optional<study::FrozenTrial> best;
        {
          py::gil_scoped_release release;
          best = h.study->best_trial(fidelity);
        }
        if (!best) return py::none();
        return record_to_dict(*best);
      }, py::arg("fidelity") = -1)
      .def("optimize",
           [](StudyHandle& h, const py::object& fn, int64_t n_trials, SamplerHandle& s, uint64_t seed, int jobs,
              const std::vector<std::pair<std::string, double>>& fidelities) {
             PythonObjective objective(fn, fidelities_from(fidelities));
             LockedSampler sampler(s);
             study::OptimizeOptions options;
             options.jobs = jobs;
             options.seed = seed;
             options.on_trial_finished = [&objective](const study::Progress&) {
               if (objective.stop_requested()) throw StopRun{};
             };
             py::gil_scoped_release release;
             // n_trials more counted (complete + pruned) trials than the study holds now.
             int64_t counted = 0;
             for (const auto& t : h.study->trials()) counted += t.state == study::TrialState::kComplete ||
                                                                t.state == study::TrialState::kPruned;
             options.n_trials = counted + n_trials;
             options.validate();
             study::OptimizeResult r;
             try {
               r = study::optimize(*h.study, objective, sampler, options);
             } catch (const StopRun&) {
               return std::string("stopped");
             }
             if (r.stop_reason == study::StopReason::kFailures)
               throw Error(detail::concat("study '", h.study->name(), "': ", options.max_consecutive_failures,
                                          " trials failed in a row; the last: ", r.last_failure));
             return std::string(study::to_string(r.stop_reason));
           },
           py::arg("fn"), py::arg("n_trials"), py::arg("sampler"), py::arg("seed"), py::arg("jobs"),
           py::arg("fidelities"));

  py::class_<RunTrial, std::shared_ptr<RunTrial>>(m, "_RunTrial")
      .def_readonly("number", &RunTrial::number)
      .def_readonly("params", &RunTrial::params)
      .def_readonly("fidelity", &RunTrial::fidelity)
      .def("report", [](RunTrial& t, int64_t step, double value) {
        MD_CHECK(t.reporter != nullptr, "trial ", t.number, ": report() after the objective returned");
        py::gil_scoped_release release;
        t.reporter->report(step, value);
      }, py::arg("step"), py::arg("value"));

  // One proposal of a sampler for a space and a history given by the caller, without a storage
  // (metadial.optuna.MetadialSampler). history: dicts {"number", "state", "params", "value",
  // "intermediate"} ordered by number; the seed is derived from (seed, trial_number) as Study::ask
  // does, so the same history gives the proposal the study would.
  m.def("_suggest",
        [](SamplerHandle& s, const py::dict& space_dict, const std::string& direction, const py::list& history,
           int64_t trial_number, uint64_t seed) {
          const space::SearchSpace space = space_from_dict(space_dict);
          std::vector<study::FrozenTrial> trials;
          trials.reserve(history.size());
          for (const auto& item : history) {
            MD_CHECK(py::isinstance<py::dict>(item), "history: expected dicts, got ", py::str(py::repr(item)).cast<std::string>());
            const auto d = item.cast<py::dict>();
            study::FrozenTrial t;
            t.number = d["number"].cast<int64_t>();
            MD_CHECK(t.number < trial_number, "history: trial ", t.number, " is not before trial ", trial_number);
            MD_CHECK(trials.empty() || trials.back().number < t.number, "history: trial ", t.number,
                     " out of order (ordered by number)");
            t.state = study::trial_state_from_string(d["state"].cast<std::string>());
            t.params = config_from(d["params"], space, detail::concat("history: trial ", t.number));
            if (d.contains("value") && !d["value"].is_none()) t.value = d["value"].cast<double>();
            MD_CHECK(t.state != study::TrialState::kComplete || t.value, "history: complete trial ", t.number,
                     " has no value");
            if (d.contains("intermediate")) t.intermediate = d["intermediate"].cast<std::map<int64_t, double>>();
            trials.push_back(std::move(t));
          }
          optim::SamplerContext ctx;
          ctx.space = &space;
          ctx.direction = study::direction_from_string(direction);
          ctx.trial_number = trial_number;
          ctx.seed = derive_seed(seed, {static_cast<uint64_t>(trial_number)});
          ctx.study_seed = seed;
          ctx.budget_left = std::numeric_limits<double>::infinity();
          optim::Suggestion sug;
          {
            py::gil_scoped_release release;
            std::lock_guard lock(s.mu);
            sug = s.sampler->suggest(ctx, trials);
          }
          MD_CHECK(sug.fidelity <= 0, "sampler '", s.sampler->name(), "' proposed fidelity ", sug.fidelity,
                   " of a single-fidelity problem");
          return sug.config;
        },
        py::arg("sampler"), py::arg("space"), py::arg("direction"), py::arg("history"), py::arg("trial_number"),
        py::arg("seed"));

  m.def("derive_seed", [](uint64_t seed, uint64_t key) { return derive_seed(seed, {key}); }, py::arg("seed"),
        py::arg("key"), "derive_seed(seed, {key}) as in C++: the seed of dialogue `key` of a run seeded `seed`.");
  m.def("env_preset_names", &dialog::env_preset_names);

  py::class_<EnvHandle, std::shared_ptr<EnvHandle>>(m, "_Env")
      .def(py::init([](const std::string& env, const std::string& domain, const std::string& ontology, int kb_entities,
                       uint64_t kb_seed, uint64_t seed) {
             auto h = std::make_shared<EnvHandle>();
             dialog::EnvOptions options = dialog::env_preset(env);
             h->domain = make_domain(domain, ontology, kb_entities, kb_seed);
             h->env = std::make_unique<dialog::DialogueEnv>(h->domain, options);
             h->seed = seed;
             return h;
           }),
           py::arg("env"), py::arg("domain"), py::arg("ontology"), py::arg("kb_entities"), py::arg("kb_seed"),
           py::arg("seed"))
      .def("reset",
           [](EnvHandle& h, std::optional<uint64_t> seed) {
             h.live("reset");
             if (seed) {
               h.seed = *seed;
               h.dialogue = 0;
             }
             const auto obs = h.reset();
             return py::make_tuple(float_array(obs), mask_array(h.env->action_mask()));
           },
           py::arg("seed"))
      .def("step",
           [](EnvHandle& h, int64_t action) {
             dialog::DialogueEnv& env = h.live("step");
             MD_CHECK(action >= 0 && action < env.num_actions(), "Env.step: action ", action, " out of range [0, ",
                      env.num_actions(), ")");
             MD_CHECK(!env.done(), "Env.step: the dialogue is over (call reset)");
             const dialog::StepResult r = env.step(static_cast<int>(action));
             const bool trunc = truncated(env);
             return py::make_tuple(float_array(r.observation), r.reward, r.done && !trunc, trunc, r.success,
                                   mask_array(env.action_mask()), env.turn());
           },
           py::arg("action"))
      .def("render_turn", [](EnvHandle& h) { return dialog::render_last_turn(h.live("render")); })
      .def("render_goal", [](EnvHandle& h, bool initial) {
        const dialog::DialogueEnv& env = h.live("render");
        return dialog::render_goal(env.domain(), initial ? env.initial_goal() : env.goal());
      }, py::arg("initial"))
      .def("goal_relaxed", [](EnvHandle& h) {
        const dialog::DialogueEnv& env = h.live("goal");
        return !(env.goal() == env.initial_goal());
      })
      .def("close", [](EnvHandle& h) { h.closed = true; })
      .def_property_readonly("closed", [](const EnvHandle& h) { return h.closed; })
      .def_property_readonly("observation_size", [](const EnvHandle& h) { return h.env->observation_size(); })
      .def_property_readonly("num_actions", [](const EnvHandle& h) { return h.env->num_actions(); })
      .def_property_readonly("action_names", [](const EnvHandle& h) {
        std::vector<std::string> names;
        for (int a = 0; a < h.env->num_actions(); ++a) names.push_back(h.domain->actions().name(a));
        return names;
      })
      .def_property_readonly("max_turns", [](const EnvHandle& h) { return h.env->options().max_turns; })
      .def_property_readonly("env_name", [](const EnvHandle& h) { return h.env->options().name; })
      .def_property_readonly("domain_name", [](const EnvHandle& h) { return h.domain->name(); })
      .def_property_readonly("turn", [](const EnvHandle& h) { return h.env->turn(); })
      .def_property_readonly("done", [](const EnvHandle& h) { return h.env->done(); })
      .def_property_readonly("success", [](const EnvHandle& h) { return h.env->success(); });

  py::class_<VectorEnvHandle, std::shared_ptr<VectorEnvHandle>>(m, "_VectorEnv")
      .def(py::init([](int n, const std::string& env, const std::string& domain, const std::string& ontology,
                       int kb_entities, uint64_t kb_seed, uint64_t seed) {
             MD_CHECK(n >= 1, "VectorEnv: n must be >= 1, got ", n);
             auto h = std::make_shared<VectorEnvHandle>();
             const dialog::EnvOptions options = dialog::env_preset(env);
             h->domain = make_domain(domain, ontology, kb_entities, kb_seed);
             h->envs.resize(static_cast<size_t>(n));
             for (int i = 0; i < n; ++i) {
               auto& e = h->envs[static_cast<size_t>(i)];
               e.domain = h->domain;
               e.env = std::make_unique<dialog::DialogueEnv>(h->domain, options);
               e.seed = seed + static_cast<uint64_t>(i);
             }
             return h;
           }),
           py::arg("n"), py::arg("env"), py::arg("domain"), py::arg("ontology"), py::arg("kb_entities"),
           py::arg("kb_seed"), py::arg("seed"))
      .def("reset",
           [](VectorEnvHandle& h, std::optional<uint64_t> seed) {
             h.check("reset");
             const py::ssize_t n = h.n(), d = h.obs_size(), a = h.num_actions();
             py::array_t<float> obs({n, d});
             py::array_t<bool> masks({n, a});
             float* o = obs.mutable_data();
             bool* mk = masks.mutable_data();
             {
               py::gil_scoped_release release;
               for (py::ssize_t i = 0; i < n; ++i) {
                 auto& e = h.envs[static_cast<size_t>(i)];
                 if (seed) {
                   e.seed = *seed + static_cast<uint64_t>(i);
                   e.dialogue = 0;
                 }
                 const auto ob = e.reset();
                 std::copy(ob.begin(), ob.end(), o + i * d);
                 const auto mask = e.env->action_mask();
                 for (py::ssize_t k = 0; k < a; ++k) mk[i * a + k] = mask[static_cast<size_t>(k)] != 0;
               }
             }
             return py::make_tuple(obs, masks);
           },
           py::arg("seed"))
      .def("step",
           [](VectorEnvHandle& h, const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& actions) {
             h.check("step");
             const py::ssize_t n = h.n(), d = h.obs_size(), a = h.num_actions();
             MD_CHECK(actions.ndim() == 1 && actions.shape(0) == n, "VectorEnv.step: expected ", n,
                      " actions (one per env), got shape ", actions.ndim() == 1 ? actions.shape(0) : -1);
             const int64_t* act = actions.data();
             for (py::ssize_t i = 0; i < n; ++i)
               MD_CHECK(act[i] >= 0 && act[i] < a, "VectorEnv.step: action ", act[i], " of env ", i,
                        " out of range [0, ", a, ")");
             py::array_t<float> obs({n, d}), final_obs({n, d});
             py::array_t<double> rewards(n);
             py::array_t<bool> term(n), trunc(n), success(n), masks({n, a});
             float* o = obs.mutable_data();
             float* fo = final_obs.mutable_data();
             double* rw = rewards.mutable_data();
             bool *te = term.mutable_data(), *tr = trunc.mutable_data(), *su = success.mutable_data(),
                  *mk = masks.mutable_data();
             {
               py::gil_scoped_release release;
               for (py::ssize_t i = 0; i < n; ++i) {
                 auto& e = h.envs[static_cast<size_t>(i)];
                 const dialog::StepResult r = e.env->step(static_cast<int>(act[i]));
                 std::copy(r.observation.begin(), r.observation.end(), fo + i * d);
                 rw[i] = r.reward;
                 tr[i] = truncated(*e.env);
                 te[i] = r.done && !tr[i];
                 su[i] = r.success;
                 const auto ob = r.done ? e.reset() : r.observation;  // autoreset
                 std::copy(ob.begin(), ob.end(), o + i * d);
                 const auto mask = e.env->action_mask();
                 for (py::ssize_t k = 0; k < a; ++k) mk[i * a + k] = mask[static_cast<size_t>(k)] != 0;
               }
             }
             return py::make_tuple(obs, rewards, term, trunc, success, masks, final_obs);
           },
           py::arg("actions"))
      .def("close", [](VectorEnvHandle& h) { h.closed = true; })
      .def_property_readonly("closed", [](const VectorEnvHandle& h) { return h.closed; })
      .def_property_readonly("num_envs", &VectorEnvHandle::n)
      .def_property_readonly("observation_size", &VectorEnvHandle::obs_size)
      .def_property_readonly("num_actions", &VectorEnvHandle::num_actions);
}
