// Personalized bAbI dialog task 3 (Joshi, Mi & Faltings 2017), generated from bAbI dialog task 3
// (Bordes et al. 2017) and the personalized knowledge base, for meta-weighted transfer's second
// experiment (seed paper 001, Table 2: primary = personalized task 3, related = bAbI task 5).
// The published data set has no task 3 file here; its construction is public (the authors'
// scripts/task3.py, speech_style.py, helpers.py) and is followed step by step:
//
//  1. The restaurants of a bAbI dialogue (its knowledge-base lines) each become two, `<name>_1`
//     and `<name>_2` (veg and non-veg in the personalized KB), in a random order.
//  2. For each diet (veg, non-veg) a favourite dish is drawn among the specialities of those
//     restaurants; the dialogue opens with the profile line and the 12 KB lines of each restaurant
//     (R_phone, R_cuisine, R_address, R_location, R_number, R_price, R_rating, R_type,
//     R_speciality, R_social_media, R_parking, R_public_transport), then the bAbI turns up to and
//     including "ok let me look into some options for you".
//  3. The bot offers the restaurants in the order of rating + 8 (R_type == diet) + 2.5
//     (R_speciality == favourite), highest first (ties keep the random order); the user accepts
//     each offer with probability accept_probability (always the last) with one of four accepting
//     sentences, else rejects it with one of three; after an acceptance the dialogue ends.
//  4. Speech style: each of the six profiles (gender x age) rewrites every bot utterance with its
//     variant of a fixed table (speech_style_variants()); the profile line reads
//     `1 <gender> <age> <diet> <favourite>`.
//  5. Full set: 2 diets x 6 profiles = 12 dialogues per bAbI dialogue; small set: one diet and one
//     profile drawn per dialogue (as many dialogues as the bAbI file). The file's dialogues are
//     shuffled (as the published save_babi does).
//
// Every random draw comes from an Rng seeded from (seed, split): same seed, same files. The
// published script draws from numpy's global generator without a seed, so its files cannot be
// recreated; ours have the same construction and distribution, not the same draws. Python's
// set iteration order (the speciality list, the restaurant list before its shuffle) is replaced
// by sorted order.
//
// Bad input is one DataError line naming the file, the line and what is wrong (unreadable or
// malformed bAbI or KB line, a KB without R_type or R_speciality, a dialogue restaurant missing
// from the KB, a bot utterance the speech-style table does not know, a dialogue that never says
// "ok let me look into some options for you"); an output folder that holds other files is an
// InvalidArgument naming the folder and the first such file. Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "metadial/agents/memn2n/babi.h"
#include "metadial/core/random.h"

namespace metadial::transfer {

/// One restaurant of the knowledge base: attribute -> value, and the line it starts on.
struct KbRestaurant {
  std::unordered_map<std::string, std::string> attributes;
  int64_t line = 0;
};

/// The personalized knowledge base (`ID name attribute<TAB>value` per line).
class PersonalizedKb {
 public:
  /// Reads `path`. Throws DataError (file:line) for an unreadable or empty file, a line that is
  /// not `ID name attribute<TAB>value` (a space instead of the tab is accepted), a non-integer
  /// R_rating, a file without any R_type or without any R_speciality attribute, or a restaurant
  /// that lacks R_rating, R_type or R_speciality.
  static PersonalizedKb read(const std::string& path);

  /// The restaurant's record, or nullptr.
  const KbRestaurant* find(const std::string& name) const;
  /// Its attribute value; throws DataError naming the KB file and line when it is missing.
  const std::string& value(const std::string& name, const std::string& attribute) const;
  int64_t rating(const std::string& name) const;
  const std::string& source() const { return source_; }
  int64_t size() const { return static_cast<int64_t>(restaurants_.size()); }

 private:
  std::unordered_map<std::string, KbRestaurant> restaurants_;
  std::string source_;
};

/// A user profile of personalized task 3.
struct UserProfile {
  std::string gender;     ///< "male" | "female"
  std::string age;        ///< "young" | "middle-aged" | "elderly"
  std::string diet;       ///< "veg" | "non-veg"
  std::string favourite;  ///< a speciality, e.g. "biryani"
  /// The profile line's text: "male young veg biryani".
  std::string text() const;
};

/// The six (gender, age) profiles in the order of the speech-style table's columns: male young,
/// female young, male middle-aged, female middle-aged, male elderly, female elderly.
const std::array<std::pair<const char*, const char*>, 6>& speech_profiles();

/// The six variants (profile order above) of a bAbI bot utterance of the table (helpers.py's
/// load_utterences). `utterance` is a whole bAbI bot response; the patterns "api_call",
/// "what do you think of this option:" and "here it is" keep what follows them. Returns false
/// when the utterance has no entry in the table.
bool speech_style_variants(const std::string& utterance, std::array<std::string, 6>& variants);

/// The offering score of a restaurant: R_rating + 8 if R_type == diet + 2.5 if R_speciality == favourite.
double offering_score(const PersonalizedKb& kb, const std::string& restaurant, const UserProfile& profile);

/// `restaurants` ordered by offering_score, highest first; equal scores keep their given order.
std::vector<std::string> offering_order(const std::vector<std::string>& restaurants, const PersonalizedKb& kb,
                                        const UserProfile& profile);

/// The bAbI bot utterance that opens the offers, and the offer's prefix.
inline constexpr const char* kOptionsUtterance = "ok let me look into some options for you";
inline constexpr const char* kOfferPrefix = "what do you think of this option:";

/// Personalizes the bAbI task 3 dialogues `babi` (read_dialogs of one file): the full set (12
/// per dialogue) or the small one (1 per dialogue), shuffled, every draw from `rng`.
std::vector<agents::memn2n::Dialog> personalize_task3(const std::vector<agents::memn2n::Dialog>& babi,
                                                      const PersonalizedKb& kb, bool small, Rng& rng,
                                                      double accept_probability = 0.25);

/// Dialogues in the bAbI text format: `ID text` lines, IDs from 1 in each dialogue, a blank line
/// after each dialogue (as the published files).
std::string to_babi_text(const std::vector<agents::memn2n::Dialog>& dialogs);

/// Settings of `metadial data personalize`.
struct PersonalizeOptions {
  int64_t task = 3;               ///< only 3 is generated
  std::string babi_dir;           ///< folder with dialog-babi-task3-options-{trn,dev,tst,tst-OOV}.txt
  std::string kb_file;            ///< personalized-dialog-kb-all.txt
  std::string out_dir;            ///< created if missing; may hold only files this generator writes
  uint64_t seed = 0;
  bool small = false;
  double accept_probability = 0.25;
};

/// What was written.
struct PersonalizedFile {
  std::string split;       ///< "trn", "dev", "tst", "tst-OOV", "candidates"
  std::string path;
  int64_t dialogs = 0;     ///< 0 for the candidate file
  int64_t responses = 0;   ///< bot responses (candidates for the candidate file)
};

/// The output file names: personalized-dialog-task3-options-<split>.txt and
/// personalized-dialog-task3-candidates.txt.
std::string personalized_file_name(const std::string& split);

/// Generates the four splits and the candidate list (every bot response of the four splits,
/// first-seen order, `1 text` per line) into options.out_dir, each file written atomically.
/// Split s draws from Rng(derive_seed(seed, {stream("ptask3"), s})).
std::vector<PersonalizedFile> generate_personalized(const PersonalizeOptions& options);

}  // namespace metadial::transfer
