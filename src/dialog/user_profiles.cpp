#include "metadial/dialog/user_profiles.h"

#include <cmath>

#include <fmt/format.h>

#include "metadial/core/config.h"
#include "metadial/core/error.h"

namespace metadial::dialog {
namespace {

double probability(const config::Table& t, std::string_view key, double fallback) {
  const double p = t.number(key).value_or(fallback);
  if (!(p >= 0.0 && p <= 1.0)) t.invalid(key, fmt::format("must be a probability in [0, 1] (got {})", p));
  return p;
}

UserProfile read_profile(const config::Table& t, const std::string& name, double share) {
  t.expect_keys({"answer_only_asked", "change_prob", "extra_prob", "patience", "patience_max", "volunteer"});
  UserProfile p;
  p.name = name;
  p.share = share;
  if (t.contains("volunteer")) {
    if (t.type_of("volunteer") == "a string") {
      if (*t.string("volunteer") != "all") t.invalid("volunteer", "must be \"all\" or a number >= 0");
      p.volunteer = UserProfile::kAll;
    } else {
      const auto v = t.integer("volunteer");  // wrong type: "must be an integer"
      if (*v < 0 || *v > 64) t.invalid("volunteer", "must be \"all\" or a number between 0 and 64");
      p.volunteer = static_cast<int>(*v);
    }
  }
  p.answer_only_asked = t.boolean("answer_only_asked").value_or(p.answer_only_asked);
  p.extra_prob = probability(t, "extra_prob", p.extra_prob);
  p.change_prob = probability(t, "change_prob", p.change_prob);
  const auto pat = t.integer("patience").value_or(p.patience);
  const auto pat_max = t.integer("patience_max").value_or(std::max<int64_t>(pat, p.patience_max));
  if (pat < 1 || pat > 100) t.invalid("patience", "must be between 1 and 100");
  if (pat_max < pat || pat_max > 100) {
    t.invalid(t.contains("patience_max") ? "patience_max" : "patience", "needs patience <= patience_max <= 100");
  }
  p.patience = static_cast<int>(pat);
  p.patience_max = static_cast<int>(pat_max);
  return p;
}

}  // namespace

UserOptions parse_user_profiles(std::string_view toml, const std::string& name) {
  const config::Table root = config::parse_toml(toml, name);
  root.expect_keys({"mix", "profile"});
  const config::Table mix = root.require_table("mix", "the share of each profile, summing to 1");
  const config::Table profiles = root.table_or_empty("profile");
  UserOptions o = UserOptions::standard();
  const auto names = mix.keys();
  if (names.empty()) mix.fail("[mix] names no profile (expected NAME = SHARE lines summing to 1)");
  double sum = 0.0;
  std::string last;
  for (const std::string& n : names) {
    const double share = probability(mix, n, 0.0);
    const auto t = profiles.table(n);
    if (!t) mix.invalid(n, fmt::format("names no profile (add a [profile.{}] table)", n));
    o.profiles.push_back(read_profile(*t, n, share));
    sum += share;
    if (last.empty() || mix.line(n) >= mix.line(last)) last = n;
  }
  if (std::abs(sum - 1.0) > 1e-6) {
    std::string terms;
    for (const auto& p : o.profiles) terms += fmt::format("{}{} {}", terms.empty() ? "" : " + ", p.name, p.share);
    mix.fail_at(last, fmt::format("[mix] shares sum to {} ({}), expected 1", sum, terms));
  }
  mix.checked(last, [&] { o.validate(); });
  return o;
}

UserOptions load_user_profiles(const std::string& path) { return parse_user_profiles(config::read_file(path), path); }

std::vector<UserProfile> simm_profiles() {
  // Shares fitted by `repro_user_profiles_simm --fit --profiles examples/user_profiles.toml`
  // (bench/results/user_profiles_simm.md) on the movie domain with the rule expert; the
  // profiles' behaviour is set by hand, in the manner of Shah et al. 2018. examples/
  // user_profiles.toml holds the same numbers (a test checks that they agree).
  auto make = [](const char* name, double share, int volunteer, bool only_asked, double extra, double change) {
    UserProfile p;
    p.name = name;
    p.share = share;
    p.volunteer = volunteer;
    p.answer_only_asked = only_asked;
    p.extra_prob = extra;
    p.change_prob = change;
    return p;
  };
  return {make("cooperative", 0.0, 2, false, 0.5, 0.0), make("fickle", 0.5, 2, false, 0.5, 1.0),
          make("reserved", 0.4, 1, true, 0.3, 0.5), make("talkative", 0.0, UserProfile::kAll, false, 0.5, 0.0),
          make("terse", 0.1, 0, true, 0.3, 0.0)};
}

UserOptions UserOptions::simm() {
  UserOptions o;
  o.profiles = simm_profiles();
  return o;
}

}  // namespace metadial::dialog
