// The `_metadial` extension module: the study engine (storage, Study, Trial), the sampler
// registries and the error hierarchy, for the pure-Python package `metadial` (python/metadial/)
// that wraps it. Everything a user can get wrong is checked by the C++ code it calls (the
// registries' option readers, SearchSpace::add, open_storage); this file only converts.
//
// The GIL is released during every call into the engine that may take long (opening a storage,
// asking a sampler, reading trials, writing results), and held while Python objects are touched.
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "metadial/core/error.h"
#include "metadial/objective/objective.h"
#include "metadial/optim/sampler.h"
#include "metadial/space/search_space.h"
#include "metadial/storage/storage.h"
#include "metadial/study/study.h"
#include "metadial/study/trial.h"
#if METADIAL_PYTHON_WITH_TORCH
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

const optim::SamplerRegistry& sampler_registry() {
  static const optim::SamplerRegistry registry = [] {
    optim::SamplerRegistry r;
    optim::register_builtin_samplers(r);
#if METADIAL_PYTHON_WITH_TORCH
    optim::hyprl::register_hyprl_sampler(r);
    optim::learned::register_learned_samplers(r);
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
      }, py::arg("fidelity") = -1);
}
