#include "metadial/dialog/render.h"

#include <fmt/format.h>

namespace metadial::dialog {

std::string render_goal(const Domain& domain, const Goal& goal) {
  const Ontology& o = domain.ontology();
  std::string out = "constraints:";
  for (int i = 0; i < o.num_informable(); ++i) {
    const int id = o.informable()[static_cast<size_t>(i)];
    out += fmt::format(" {}={}", o.slot(id).name, o.value_name(id, goal.constraints[static_cast<size_t>(i)]));
  }
  out += "; requests:";
  bool any = false;
  for (int r = 0; r < o.num_requestable(); ++r) {
    if ((goal.requests >> r) & 1U) {
      out += (any ? ", " : " ") + o.slot(o.requestable()[static_cast<size_t>(r)]).name;
      any = true;
    }
  }
  if (!any) out += " none";
  return out;
}

std::string render_nbest(const Domain& domain, const NBestList& nbest, const std::string& indent) {
  std::string out;
  for (int h = 0; h < nbest.size; ++h) {
    const Hypothesis& hyp = nbest.hyps[static_cast<size_t>(h)];
    out += fmt::format("{}{:.2f} {}\n", indent, hyp.confidence, to_string(domain.ontology(), hyp.turn));
  }
  return out;
}

std::string render_belief(const Domain& domain, const BeliefState& b, const std::string& indent) {
  const Ontology& o = domain.ontology();
  std::string out;
  for (int i = 0; i < o.num_informable(); ++i) {
    const int id = o.informable()[static_cast<size_t>(i)];
    const SlotTop& t1 = b.top[static_cast<size_t>(i)];
    const SlotTop& t2 = b.second[static_cast<size_t>(i)];
    const auto slot = b.slot(i);
    out += fmt::format("{}{:<14}", indent, o.slot(id).name);
    if (t1.value == kNoValue) {
      out += " (nothing)";
    } else {
      out += fmt::format(" {}={:.2f}", o.value_name(id, t1.value), t1.prob);
      if (t2.value != kNoValue) out += fmt::format(" {}={:.2f}", o.value_name(id, t2.value), t2.prob);
    }
    out += fmt::format(" none={:.2f}{}\n", slot.back(), b.accepted[static_cast<size_t>(i)] != kNoValue ? "  [accepted]" : "");
  }
  std::string req;
  for (int r = 0; r < o.num_requestable(); ++r) {
    const float x = b.requested[static_cast<size_t>(r)];
    if (x > 0.0F) req += fmt::format(" {}={:.2f}", o.slot(o.requestable()[static_cast<size_t>(r)]).name, x);
  }
  out += fmt::format("{}requested     {}\n", indent, req.empty() ? " (none)" : req);
  out += fmt::format("{}method         none={:.2f} constraints={:.2f} alternatives={:.2f} finished={:.2f}\n", indent,
                     b.method[kMethodNone], b.method[kMethodByConstraints], b.method[kMethodByAlternatives],
                     b.method[kMethodFinished]);
  out += fmt::format("{}database       {} matching", indent, b.match_count);
  if (b.offered_entity >= 0) {
    out += fmt::format("; offered \"{}\"{}", domain.kb().name(b.offered_entity), b.offered_matches ? "" : " (no longer matches)");
  }
  out += '\n';
  return out;
}

std::string render_turn(const Domain& domain, const TurnRecord& r, const BeliefState& belief) {
  const Ontology& o = domain.ontology();
  std::string out;
  if (r.action >= 0) {
    out += fmt::format("turn {:>2}  system: {:<22} {}\n", r.turn, domain.actions().name(r.action),
                       to_string(o, domain.kb(), r.system_act));
  } else {
    out += fmt::format("turn {:>2}  system: {:<22} hello()\n", r.turn, "(opening)");
  }
  if (r.user_turn.size > 0) {
    out += fmt::format("          user:   {}\n", to_string(o, r.user_turn));
    out += "          heard:\n";
    out += render_nbest(domain, r.nbest, "            ");
    out += "          belief:\n";
    out += render_belief(domain, belief, "            ");
  }
  if (r.action >= 0) out += fmt::format("          reward: {:+.0f}", r.reward);
  if (r.done) out += fmt::format("{}dialogue over: {}", r.action >= 0 ? "   " : "          ", r.success ? "success" : "failure");
  if (r.action >= 0 || r.done) out += '\n';
  return out;
}

std::string render_last_turn(const DialogueEnv& env) { return render_turn(env.domain(), env.last_turn(), env.belief()); }

}  // namespace metadial::dialog
