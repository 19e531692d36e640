#include "metadial/transfer/personalize.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

#include "metadial/core/error.h"
#include "metadial/core/file.h"

namespace metadial::transfer {

namespace mm = agents::memn2n;
namespace fs = std::filesystem;

namespace {

std::string strip_cr(const std::string& s) { return !s.empty() && s.back() == '\r' ? s.substr(0, s.size() - 1) : s; }

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// The attributes a dialogue writes for each restaurant, in task3.py's order.
constexpr std::array<const char*, 12> kDialogueAttributes = {
    "R_phone", "R_cuisine", "R_address", "R_location", "R_number", "R_price", "R_rating", "R_type",
    "R_speciality", "R_social_media", "R_parking", "R_public_transport"};

// The user's sentences (task3.py's `utterences`).
constexpr std::array<const char*, 4> kAccept = {"that looks great", "i love that", "let's do it", "it's perfect"};
constexpr std::array<const char*, 3> kReject = {"do you have something else", "no i don't like that",
                                                "no this does not work for me"};
constexpr const char* kAcceptBot = "great let me do the reservation";
constexpr const char* kRejectBot = "sure let me find an other option for you";

// helpers.py's load_utterences: bAbI bot utterance -> its variants for the six profiles of
// speech_profiles(), in that order.
const std::map<std::string, std::array<const char*, 6>>& speech_table() {
  static const std::map<std::string, std::array<const char*, 6>> table = {
      {"hello what can i help you with today",
       {"hey dude what is up", "hey girl how is it going", "hello sir what can i help you with",
        "hello maam how can i help you", "greetings sir what may i assist you with today",
        "good day madam how could i assist you today"}},
      {"i'm on it",
       {"i'm on your request", "be right back with your reservation", "i'm processing the request",
        "give me a second for processing the reservation", "excellent sir i will start the request now",
        "thank you madam i shall start the reservation now"}},
      {"any preference on a type of cuisine",
       {"what food are you looking for", "what food are you looking for", "what type of cuisine would you like to eat",
        "what type of cuisine would you like to eat", "may i know your preference on the type of cuisine",
        "could you tell me your preference on the type of cuisine"}},
      {"where should it be",
       {"where should it be", "where should it be", "where should it be located", "where should it be located",
        "may i know where the restaurant should be located", "could you tell me where the restaurant should be located"}},
      {"which price range are looking for",
       {"what should the price be", "what should the price be", "which price range are you looking for",
        "which price range are you looking for", "may i know your prefered price range",
        "would you mind telling me your price range"}},
      {"how many people would be in your party",
       {"how many are you", "how many are you", "how many people would be in your party",
        "how many people would be in your party", "may i know how many guests will be at your table",
        "would you mind telling me how many guests shall be at your table"}},
      {"api_call", {"api_call", "api_call", "api_call", "api_call", "api_call", "api_call"}},
      {"sure is there anything else to update",
       {"cool anything else you want to update", "awesome is there any other update",
        "great is there anything else to modify", "great is there any other thing to modify",
        "i will modify your request is there anything else to change",
        "i shall modify your reservation is there any other change"}},
      {"ok let me look into some options for you",
       {"ok looking for options", "sure finding some options", "ok sir i'm looking for options for you",
        "sure maam i'm finding some options for you", "excellent sir please give me a moment to provide you with options",
        "thank you madam i shall provide you with options shortly"}},
      {"what do you think of this option:",
       {"is this one cool:", "how about this one:", "is this a good option:", "what do you think of this option:",
        "may i suggest this option:", "would you consider this option:"}},
      {"sure let me find an other option for you",
       {"ok looking for something else", "sure finding something else", "ok i'll look for a better option",
        "sure i'll find a better option", "yes sir i will look for another suitable option",
        "yes maam i shall find another suitable option"}},
      {"here it is",
       {"here you go", "here you go", "here it is", "here it is", "here is the information you asked for",
        "here is the information you asked for"}},
      {"is there anything i can help you with",
       {"want anything else", "need something else", "is there anything i can help you with",
        "can i assist you with something else", "may i help you in any other way sir",
        "could i assist you in some other manner madam"}},
      {"great let me do the reservation",
       {"cool its done", "awesome you are done", "great i'll finalise the request", "great let me do the reservation",
        "excellent i will finalise your request", "thank you i shall finish your reservation"}},
      {"you're welcome",
       {"no problem", "happy to help", "you're welcome", "you're welcome", "it was a pleasure to be of help to you sir",
        "i am grateful to assist you madam"}},
  };
  return table;
}

// One turn of a personalized dialogue before the speech style is applied.
struct Turn {
  std::string user, bot;  // bot empty: a context line (profile, KB)
  int64_t source_line = 0;
};

mm::DialogLine line_of(const Turn& t, const std::string& bot) {
  mm::DialogLine l;
  l.user = t.user;
  l.bot = bot;
  l.has_bot = !t.bot.empty();
  return l;
}

}  // namespace

// ---- knowledge base ---------------------------------------------------------------------------

PersonalizedKb PersonalizedKb::read(const std::string& path) {
  std::ifstream in(path);
  MD_CHECK_AS(DataError, in.good(), path, ": cannot open the knowledge-base file");
  PersonalizedKb kb;
  kb.source_ = path;
  std::string raw;
  int64_t line_no = 0;
  bool any_type = false, any_speciality = false;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = strip_cr(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const size_t sp1 = line.find(' ');
    int64_t id = 0;
    MD_CHECK_AS(DataError, sp1 != std::string::npos && parse_int(line.substr(0, sp1), id) && id > 0, path, ":",
                line_no, ": expected 'ID name attribute<TAB>value' with a positive integer ID, got '", line, "'");
    const size_t sp2 = line.find(' ', sp1 + 1);
    MD_CHECK_AS(DataError, sp2 != std::string::npos && sp2 > sp1 + 1, path, ":", line_no,
                ": expected 'ID name attribute<TAB>value', got '", line, "'");
    const std::string name = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string rest = line.substr(sp2 + 1);
    size_t sep = rest.find('\t');
    if (sep == std::string::npos) sep = rest.find(' ');
    MD_CHECK_AS(DataError, sep != std::string::npos && sep > 0 && sep + 1 < rest.size(), path, ":", line_no,
                ": expected 'ID name attribute<TAB>value' (attribute and value), got '", line, "'");
    const std::string attribute = rest.substr(0, sep);
    const std::string value = rest.substr(sep + 1);
    MD_CHECK_AS(DataError, value.find_first_of(" \t") == std::string::npos, path, ":", line_no,
                ": the value of ", attribute, " must be one word, got '", value, "'");
    if (attribute == "R_rating") {
      int64_t r = 0;
      MD_CHECK_AS(DataError, parse_int(value, r), path, ":", line_no, ": R_rating of ", name, " is '", value,
                  "', expected an integer");
    }
    any_type = any_type || attribute == "R_type";
    any_speciality = any_speciality || attribute == "R_speciality";
    KbRestaurant& r = kb.restaurants_[name];
    if (r.line == 0) r.line = line_no;
    r.attributes[attribute] = value;
  }
  MD_CHECK_AS(DataError, !kb.restaurants_.empty(), path, ": no restaurants in the knowledge-base file");
  MD_CHECK_AS(DataError, any_type && any_speciality, path,
              ": the knowledge base has no ", any_type ? "R_speciality" : "R_type",
              " attribute (expected the personalized KB, personalized-dialog-kb-all.txt, whose restaurants have "
              "R_type and R_speciality)");
  // Every restaurant needs what the offering order reads (first offender in file order).
  const KbRestaurant* worst = nullptr;
  const char* missing = nullptr;
  std::string worst_name;
  for (const auto& [name, r] : kb.restaurants_) {
    for (const char* a : {"R_rating", "R_type", "R_speciality"}) {
      if (!r.attributes.contains(a) && (worst == nullptr || r.line < worst->line)) {
        worst = &r;
        missing = a;
        worst_name = name;
        break;
      }
    }
  }
  MD_CHECK_AS(DataError, worst == nullptr, path, ":", worst ? worst->line : 0, ": restaurant ", worst_name,
              " has no ", missing ? missing : "", " attribute");
  return kb;
}

const KbRestaurant* PersonalizedKb::find(const std::string& name) const {
  const auto it = restaurants_.find(name);
  return it == restaurants_.end() ? nullptr : &it->second;
}

const std::string& PersonalizedKb::value(const std::string& name, const std::string& attribute) const {
  const KbRestaurant* r = find(name);
  MD_CHECK_AS(DataError, r != nullptr, source_, ": no restaurant ", name, " in the knowledge base");
  const auto it = r->attributes.find(attribute);
  MD_CHECK_AS(DataError, it != r->attributes.end(), source_, ":", r->line, ": restaurant ", name, " has no ",
              attribute, " attribute");
  return it->second;
}

int64_t PersonalizedKb::rating(const std::string& name) const {
  int64_t r = 0;
  parse_int(value(name, "R_rating"), r);  // checked integer by read()
  return r;
}

// ---- profiles, speech style, offering order ---------------------------------------------------

std::string UserProfile::text() const { return gender + " " + age + " " + diet + " " + favourite; }

const std::array<std::pair<const char*, const char*>, 6>& speech_profiles() {
  static const std::array<std::pair<const char*, const char*>, 6> p = {{{"male", "young"},
                                                                        {"female", "young"},
                                                                        {"male", "middle-aged"},
                                                                        {"female", "middle-aged"},
                                                                        {"male", "elderly"},
                                                                        {"female", "elderly"}}};
  return p;
}

bool speech_style_variants(const std::string& utterance, std::array<std::string, 6>& variants) {
  // speech_style.py's process_utterence: a pattern found anywhere keeps the text after it.
  std::string pattern = utterance, data;
  for (const char* p : {"api_call", kOfferPrefix, "here it is"}) {
    const size_t at = utterance.find(p);
    if (at != std::string::npos) {
      pattern = p;
      data = utterance.substr(at + std::char_traits<char>::length(p));
      break;
    }
  }
  const auto& table = speech_table();
  const auto it = table.find(pattern);
  if (it == table.end()) return false;
  for (size_t i = 0; i < 6; ++i) variants[i] = std::string(it->second[i]) + data;
  return true;
}

double offering_score(const PersonalizedKb& kb, const std::string& restaurant, const UserProfile& profile) {
  double s = static_cast<double>(kb.rating(restaurant));
  if (kb.value(restaurant, "R_type") == profile.diet) s += 8.0;
  if (kb.value(restaurant, "R_speciality") == profile.favourite) s += 2.5;
  return s;
}

std::vector<std::string> offering_order(const std::vector<std::string>& restaurants, const PersonalizedKb& kb,
                                        const UserProfile& profile) {
  std::vector<std::pair<double, std::string>> scored;
  scored.reserve(restaurants.size());
  for (const auto& r : restaurants) scored.emplace_back(offering_score(kb, r, profile), r);
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  out.reserve(scored.size());
  for (auto& s : scored) out.push_back(std::move(s.second));
  return out;
}

// ---- generation -------------------------------------------------------------------------------

std::vector<mm::Dialog> personalize_task3(const std::vector<mm::Dialog>& babi, const PersonalizedKb& kb, bool small,
                                          Rng& rng, double accept_probability) {
  MD_CHECK(accept_probability >= 0 && accept_probability <= 1, "personalize_task3: accept_probability ",
           accept_probability, " must be in [0, 1]");
  std::vector<mm::Dialog> out;
  for (const mm::Dialog& d : babi) {
    const int64_t first_line = d.lines.empty() ? 0 : d.lines.front().line;
    // 1. The dialogue's restaurants (first word of its KB lines), sorted, then _1 and _2, shuffled.
    std::set<std::string> old_names;
    std::map<std::string, int64_t> name_line;
    for (const auto& l : d.lines) {
      if (l.has_bot) continue;
      const std::string name = l.user.substr(0, l.user.find(' '));
      if (old_names.insert(name).second) name_line[name] = l.line;
    }
    MD_CHECK_AS(DataError, !old_names.empty(), d.file, ":", first_line,
                ": the dialogue has no knowledge-base lines (bAbI task 3 dialogues open with the restaurants to offer)");
    std::vector<std::string> restaurants;
    for (const auto& n : old_names) {
      for (const char* suffix : {"_1", "_2"}) {
        const std::string r = n + suffix;
        MD_CHECK_AS(DataError, kb.find(r) != nullptr, d.file, ":", name_line[n], ": restaurant ", r,
                    " (personalized variant of ", n, ") is not in the knowledge base ", kb.source());
        restaurants.push_back(r);
      }
    }
    shuffle(restaurants, rng);
    std::set<std::string> specialities_set;
    for (const auto& r : restaurants) specialities_set.insert(kb.value(r, "R_speciality"));
    const std::vector<std::string> specialities(specialities_set.begin(), specialities_set.end());

    // The bAbI turns up to the options announcement.
    std::vector<Turn> prefix;
    bool announced = false;
    for (const auto& l : d.lines) {
      if (!l.has_bot) continue;
      prefix.push_back(Turn{l.user, l.bot, l.line});
      if (l.bot == kOptionsUtterance) {
        announced = true;
        break;
      }
    }
    MD_CHECK_AS(DataError, announced, d.file, ":", first_line, ": the dialogue never says '", kOptionsUtterance,
                "' (not a bAbI task 3 dialogue?)");

    // 2.-3. One dialogue per diet: profile, KB lines, prefix, offers.
    struct Draft {
      std::string diet, favourite;
      std::vector<Turn> turns;
    };
    std::vector<Draft> drafts;
    for (const char* diet : {"veg", "non-veg"}) drafts.push_back(Draft{diet, specialities[uniform_below(rng, specialities.size())], {}});
    for (Draft& dr : drafts) {
      for (const auto& r : restaurants)
        for (const char* a : kDialogueAttributes) dr.turns.push_back(Turn{r + " " + a + " " + kb.value(r, a), "", 0});
      dr.turns.insert(dr.turns.end(), prefix.begin(), prefix.end());
      const UserProfile p{"", "", dr.diet, dr.favourite};
      const std::vector<std::string> order = offering_order(restaurants, kb, p);
      for (size_t i = 0; i < order.size(); ++i) {
        dr.turns.push_back(Turn{mm::kSilence, std::string(kOfferPrefix) + " " + order[i], 0});
        const bool accept = i + 1 == order.size() || uniform01(rng) < accept_probability;
        if (accept) {
          dr.turns.push_back(Turn{kAccept[uniform_below(rng, kAccept.size())], kAcceptBot, 0});
          break;
        }
        dr.turns.push_back(Turn{kReject[uniform_below(rng, kReject.size())], kRejectBot, 0});
      }
    }
    std::vector<size_t> keep_drafts{0, 1};
    if (small) keep_drafts = {uniform_below(rng, drafts.size())};

    // 4.-5. Speech style per profile.
    for (size_t k : keep_drafts) {
      const Draft& dr = drafts[k];
      std::vector<size_t> profiles{0, 1, 2, 3, 4, 5};
      if (small) profiles = {uniform_below(rng, 6)};
      // The styled variants of each bot turn (looked up once per draft).
      std::vector<std::array<std::string, 6>> styled(dr.turns.size());
      for (size_t t = 0; t < dr.turns.size(); ++t) {
        const Turn& turn = dr.turns[t];
        if (turn.bot.empty()) continue;
        MD_CHECK_AS(DataError, speech_style_variants(turn.bot, styled[t]), d.file, ":", turn.source_line,
                    ": the bot utterance '", turn.bot, "' has no speech-style variants (not a bAbI task 3 utterance)");
      }
      for (size_t pi : profiles) {
        const auto& [gender, age] = speech_profiles()[pi];
        const UserProfile profile{gender, age, dr.diet, dr.favourite};
        mm::Dialog nd;
        nd.file = d.file;
        mm::DialogLine head;
        head.user = profile.text();
        nd.lines.push_back(head);
        for (size_t t = 0; t < dr.turns.size(); ++t)
          nd.lines.push_back(line_of(dr.turns[t], dr.turns[t].bot.empty() ? "" : styled[t][pi]));
        out.push_back(std::move(nd));
      }
    }
  }
  shuffle(out, rng);
  return out;
}

std::string to_babi_text(const std::vector<mm::Dialog>& dialogs) {
  std::string s;
  for (const auto& d : dialogs) {
    int64_t id = 1;
    for (const auto& l : d.lines) {
      s += std::to_string(id++);
      s += ' ';
      s += l.user;
      if (l.has_bot) {
        s += '\t';
        s += l.bot;
      }
      s += '\n';
    }
    s += '\n';
  }
  return s;
}

std::string personalized_file_name(const std::string& split) {
  if (split == "candidates") return "personalized-dialog-task3-candidates.txt";
  return "personalized-dialog-task3-options-" + split + ".txt";
}

std::vector<PersonalizedFile> generate_personalized(const PersonalizeOptions& o) {
  MD_CHECK(o.task == 3, "data personalize: --task ", o.task,
           " is not generated (only task 3: tasks 1, 2 and 4 are published, task 5 is not built here)");
  MD_CHECK(!o.babi_dir.empty() && !o.kb_file.empty() && !o.out_dir.empty(),
           "data personalize: the bAbI folder, the KB file and the output folder are all required");
  MD_CHECK(o.accept_probability >= 0 && o.accept_probability <= 1, "data personalize: accept probability ",
           o.accept_probability, " must be in [0, 1]");
  const std::vector<std::string> splits{"trn", "dev", "tst", "tst-OOV"};
  std::set<std::string> ours;
  for (const auto& s : splits) ours.insert(personalized_file_name(s));
  ours.insert(personalized_file_name("candidates"));
  // The output folder: new, empty, or holding only files this generator writes (a re-run).
  const fs::path out_dir(o.out_dir);
  std::error_code ec;
  if (fs::exists(out_dir, ec)) {
    MD_CHECK(fs::is_directory(out_dir, ec), o.out_dir, ": the output path exists and is not a folder");
    std::vector<std::string> others;
    for (const auto& e : fs::directory_iterator(out_dir)) {
      const std::string n = e.path().filename().string();
      if (!ours.contains(n)) others.push_back(n);
    }
    std::sort(others.begin(), others.end());
    MD_CHECK(others.empty(), o.out_dir, ": the output folder exists and holds ", others.size(),
             " other file(s) (first: ", others.empty() ? "" : others.front(),
             "); give a new or empty folder, or one holding only a previous run's files");
  }
  // Read everything before writing anything.
  const PersonalizedKb kb = PersonalizedKb::read(o.kb_file);
  std::vector<std::vector<mm::Dialog>> babi;
  for (const auto& s : splits)
    babi.push_back(mm::read_dialogs((fs::path(o.babi_dir) / ("dialog-babi-task3-options-" + s + ".txt")).string()));
  std::vector<std::string> texts;
  std::vector<PersonalizedFile> files;
  mm::CandidateSet candidates;
  for (size_t i = 0; i < splits.size(); ++i) {
    Rng rng(derive_seed(o.seed, {stream("ptask3"), static_cast<uint64_t>(i)}));
    const auto dialogs = personalize_task3(babi[i], kb, o.small, rng, o.accept_probability);
    PersonalizedFile f;
    f.split = splits[i];
    f.path = (out_dir / personalized_file_name(splits[i])).string();
    f.dialogs = static_cast<int64_t>(dialogs.size());
    for (const auto& d : dialogs)
      for (const auto& l : d.lines)
        if (l.has_bot) {
          ++f.responses;
          candidates.add(l.bot);
        }
    texts.push_back(to_babi_text(dialogs));
    files.push_back(f);
  }
  std::string cand_text;
  for (const auto& c : candidates.texts()) cand_text += "1 " + c + "\n";
  fs::create_directories(out_dir, ec);
  MD_CHECK(!ec, o.out_dir, ": cannot create the output folder (", ec.message(), ")");
  for (size_t i = 0; i < files.size(); ++i) write_file_atomically(files[i].path, texts[i]);
  PersonalizedFile cf;
  cf.split = "candidates";
  cf.path = (out_dir / personalized_file_name("candidates")).string();
  cf.responses = candidates.size();
  write_file_atomically(cf.path, cand_text);
  files.push_back(cf);
  return files;
}

}  // namespace metadial::transfer
