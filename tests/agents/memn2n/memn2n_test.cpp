#include "metadial/agents/memn2n/memn2n.h"

#include <gtest/gtest.h>

#include "metadial/core/error.h"
#include "metadial/core/random.h"

namespace mm = metadial::agents::memn2n;

namespace {

// Synthetic retrieval task that needs the memory: the user names a colour somewhere in the
// history, among distractor turns; asked "which colour", the right response is that colour.
std::vector<mm::Dialog> colour_dialogs(int n, uint64_t seed) {
  const std::vector<std::string> colours{"red", "green", "blue", "pink", "grey", "gold"};
  const std::vector<std::string> chatter{"nice weather", "i like trains", "my dog sleeps", "tea please"};
  metadial::Rng rng(seed);
  auto pick = [&](size_t k) { return static_cast<size_t>(metadial::uniform01(rng) * static_cast<double>(k)); };
  std::vector<mm::Dialog> out;
  for (int d = 0; d < n; ++d) {
    mm::Dialog dialog{"synthetic", {}};
    const std::string colour = colours[pick(colours.size())];
    const size_t before = pick(3);
    const size_t after = pick(3);
    int64_t line = 0;
    for (size_t i = 0; i < before; ++i) dialog.lines.push_back({++line, chatter[pick(chatter.size())], "ok", true});
    dialog.lines.push_back({++line, "my colour is " + colour, "noted", true});
    for (size_t i = 0; i < after; ++i) dialog.lines.push_back({++line, chatter[pick(chatter.size())], "ok", true});
    dialog.lines.push_back({++line, "which colour", "it is " + colour, true});
    out.push_back(std::move(dialog));
  }
  return out;
}

mm::CandidateSet colour_candidates() {
  return mm::CandidateSet({"ok", "noted", "it is red", "it is green", "it is blue", "it is pink", "it is grey",
                           "it is gold"});
}

}  // namespace

TEST(MemN2NEncode, PutsSpeakerAndTimeTokensInMemorySlots) {
  const mm::CandidateSet c({"hello", "api_call thai"});
  std::vector<mm::Dialog> d{{"f", {{1, "hi", "hello", true}, {2, "resto_1 thai", "", false}, {3, "go", "api_call thai", true}}}};
  const auto ex = mm::make_examples(d);
  mm::Vocabulary v;
  v.add_all(ex, c, 4);
  const auto enc = mm::encode(ex, v, c, /*memory_size=*/2, /*sentence_size=*/4);
  EXPECT_EQ(enc.story.sizes(), (std::vector<int64_t>{2, 2, 4}));
  EXPECT_EQ(enc.answer[0].item<int64_t>(), 0);
  EXPECT_EQ(enc.answer[1].item<int64_t>(), 1);
  EXPECT_EQ(enc.story[0].sum().item<int64_t>(), 0);  // first response: empty memory
  // Second response: history hi($u,#2) hello($r,#1) resto_1 thai($c,#0); memory 2 keeps the last two.
  const auto s = enc.story[1];
  EXPECT_EQ(s[0][0].item<int64_t>(), v.id("hello"));
  EXPECT_EQ(s[0][1].item<int64_t>(), v.id("$r"));
  EXPECT_EQ(s[0][2].item<int64_t>(), v.id("#1"));
  EXPECT_EQ(s[1][0].item<int64_t>(), v.id("resto_1"));
  EXPECT_EQ(s[1][2].item<int64_t>(), v.id("$c"));
  EXPECT_EQ(s[1][3].item<int64_t>(), v.id("#0"));
  EXPECT_EQ(enc.query[1][0].item<int64_t>(), v.id("go"));
  EXPECT_EQ(enc.answer_words[1][1].item<int64_t>(), v.id("thai"));
}

TEST(MemN2N, IgnoresPaddingRowsAndEmptySlots) {
  // With only padding in the memory, the state after any hops is u_0 H^hops.
  mm::MemN2NOptions o;
  o.vocab_size = 5;
  o.embedding = 3;
  o.hops = 2;
  mm::MemN2N net(o, torch::tensor({{2L, 3L}, {4L, 0L}}));
  const auto p = net.parameters();
  const auto story = torch::zeros({1, 2, 2}, torch::kLong);
  const auto query = torch::tensor({{2L, 0L}});
  const auto u = mm::memory_state(p[0], p[1], story, mm::bag_of_words(p[0], query), 2);
  const auto want = p[0][2].unsqueeze(0).mm(p[1]).mm(p[1]);
  EXPECT_TRUE(torch::allclose(u, want, 1e-5, 1e-6));
  const auto s = net.scores(story, query, 0, p);
  EXPECT_NEAR(s[0][1].item<double>(), (want[0] * p[2][4]).sum().item<double>(), 1e-5);
}

TEST(MemN2N, LearnsASyntheticRetrievalTaskThatNeedsTheMemory) {
  torch::manual_seed(0);
  const auto c = colour_candidates();
  const auto train_ex = mm::make_examples(colour_dialogs(300, 1));
  const auto val_ex = mm::make_examples(colour_dialogs(100, 2));
  mm::Vocabulary v;
  v.add_all(train_ex, c, 10);
  const int64_t len = mm::sentence_size(train_ex, c);
  const auto train = mm::encode(train_ex, v, c, 10, len);
  const auto val = mm::encode(val_ex, v, c, 10, len);
  mm::MemN2NOptions o;
  o.vocab_size = v.size();
  o.seed = 3;
  mm::MemN2N net(o, mm::encode_candidates(c, v, len));
  // Chance on the "which colour" turns is 1/6; the other turns are "ok" / "noted" by query words.
  mm::FitOptions f;
  f.epochs = 15;
  f.learning_rate = 0.01;
  const auto r = mm::fit(net, train, val, f);
  EXPECT_GE(r.best_validation, 0.97);
  EXPECT_DOUBLE_EQ(mm::accuracy(net, val), r.best_validation);
}

TEST(MemN2NWeightNet, GivesOneLogitPerExampleDifferentiableInItsParameters) {
  mm::MemN2NOptions o;
  o.vocab_size = 6;
  o.embedding = 4;
  mm::MemN2NWeightNet p(o);
  const auto story = torch::tensor({{{2L, 3L}, {0L, 0L}}, {{4L, 0L}, {5L, 2L}}});
  const auto q = torch::tensor({{2L, 0L}, {3L, 4L}});
  const auto a = torch::tensor({{5L, 0L}, {1L, 0L}});
  const auto l = p.logits(story, q, a);
  EXPECT_EQ(l.sizes(), (std::vector<int64_t>{2}));
  l.sum().backward();
  for (const auto& t : p.parameters()) {
    ASSERT_TRUE(t.grad().defined());
    EXPECT_GT(t.grad().abs().sum().item<double>(), 0);
  }
}

TEST(MemN2NOptions, RejectsSettingsOutOfTheirDomain) {
  mm::MemN2NOptions o;
  o.vocab_size = 1;
  EXPECT_THROW(o.validate(), metadial::InvalidArgument);
  o.vocab_size = 10;
  o.heads = 3;
  EXPECT_THROW(o.validate(), metadial::InvalidArgument);
  mm::FitOptions f;
  f.epochs = 0;
  EXPECT_THROW(f.validate(), metadial::InvalidArgument);
}

TEST(MemN2NEncode, CutsSentencesToTheCapSoThatOneHugeLineCannotSizeTheTensors) {
  std::string huge;
  for (int i = 0; i < 200000; ++i) huge += "w" + std::to_string(i % 1000) + " ";
  std::vector<mm::Dialog> d{{"f", {{1, huge, "ok", true}, {2, "go", "ok", true}}}};
  const auto ex = mm::make_examples(d);
  const mm::CandidateSet c({"ok", huge});
  EXPECT_EQ(mm::sentence_size(ex, c), 64 + 2);  // not 200,002
  mm::Vocabulary v;
  v.add_all(ex, c, 4);
  const auto enc = mm::encode(ex, v, c, /*memory_size=*/4, mm::sentence_size(ex, c));
  EXPECT_EQ(enc.story.sizes(), (std::vector<int64_t>{2, 4, 66}));
  // The query keeps its first 64 words; the memory slot its first 64 and the two tokens.
  EXPECT_EQ(enc.query[0].ne(0).sum().item<int64_t>(), 64);
  EXPECT_EQ(enc.story[1][0].ne(0).sum().item<int64_t>(), 66);
  EXPECT_EQ(mm::encode_candidates(c, v).sizes(), (std::vector<int64_t>{2, 64}));
}

TEST(MemN2NEncode, RefusesATensorOverTheLimitBeforeAllocatingIt) {
  const mm::CandidateSet c({"ok"});
  std::vector<mm::Dialog> d{{"f", {{1, "hi", "ok", true}}}};
  const auto ex = mm::make_examples(d);
  mm::Vocabulary v;
  v.add_all(ex, c, 1);
  try {
    mm::encode(ex, v, c, /*memory_size=*/1000, /*sentence_size=*/int64_t{1} << 40);
    FAIL() << "no InvalidArgument";
  } catch (const metadial::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("over the limit of 4 GiB"), std::string::npos) << e.what();
  }
}
