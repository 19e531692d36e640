#include "metadial/dialog/ontology.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "dialog/toy_domain.h"
#include "metadial/core/error.h"

namespace metadial::dialog {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Expects a one-line DataError "bad.json:1: ..." that contains `what` (the table, key and problem).
void expect_data_error(const std::string& json, const std::string& what) {
  try {
    Ontology::parse(json, "bad.json");
    FAIL() << "expected DataError: " << what;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.json:1: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(Ontology, BuiltinRestaurantHasThePyDialSlots) {
  const Ontology o = Ontology::builtin("restaurant");
  EXPECT_EQ(o.domain(), "restaurant");
  ASSERT_EQ(o.num_informable(), 3);
  EXPECT_EQ(o.slot(o.informable()[0]).name, "area");
  EXPECT_EQ(o.slot(o.informable()[1]).name, "food");
  EXPECT_EQ(o.slot(o.informable()[2]).name, "pricerange");
  EXPECT_EQ(o.num_values(0), 5);
  EXPECT_EQ(o.num_values(1), 20);
  EXPECT_EQ(o.num_values(2), 3);
  EXPECT_EQ(o.num_requestable(), 7);  // name address phone postcode area food pricerange
  EXPECT_EQ(o.system_requestable().size(), 3u);
  EXPECT_EQ(o.slot(Ontology::entity_slot()).name, "name");
  EXPECT_EQ(o.value_id(o.slot_id("food"), "thai"), 16);
  EXPECT_EQ(o.value_id(o.slot_id("food"), "dontcare"), kDontcare);
  EXPECT_EQ(o.value_name(o.slot_id("area"), kDontcare), "dontcare");
  EXPECT_THROW(o.slot_id("colour"), InvalidArgument);
  EXPECT_THROW(o.value_id(o.slot_id("food"), "martian"), InvalidArgument);
}

TEST(Ontology, BuiltinMovieHasNumTicketsOutsideTheDatabase) {
  const Ontology o = Ontology::builtin("movie");
  ASSERT_EQ(o.num_informable(), 5);
  const int i = o.informable_index(o.slot_id("num_tickets"));
  ASSERT_GE(i, 0);
  EXPECT_FALSE(o.slot(o.slot_id("num_tickets")).in_kb);
  EXPECT_TRUE(o.slot(o.slot_id("num_tickets")).required);
  EXPECT_EQ(o.requestable_index(o.slot_id("num_tickets")), -1);
  EXPECT_EQ(o.system_requestable().size(), 5u);
}

TEST(Ontology, SfRestaurantHasPyDialsSixInformableSlots) {
  const Ontology o = Ontology::builtin("sf_restaurant");
  EXPECT_EQ(o.domain(), "sf_restaurant");
  ASSERT_EQ(o.num_informable(), 6);
  EXPECT_EQ(o.system_requestable().size(), 6u);
  for (const char* slot : {"area", "food", "pricerange", "goodformeal", "kidsallowed", "near"}) {
    const int id = o.slot_id(slot);
    ASSERT_GE(id, 0) << slot;
    EXPECT_GE(o.informable_index(id), 0) << slot;
  }
  EXPECT_EQ(o.num_values(o.informable_index(o.slot_id("area"))), 60);
  EXPECT_EQ(o.num_values(o.informable_index(o.slot_id("goodformeal"))), 4);
}

TEST(Ontology, CompiledCopiesMatchTheDataFiles) {
  for (const auto& name : Ontology::builtin_names()) {
    const std::string file = read_file(std::string(METADIAL_SOURCE_DIR) + "/data/ontologies/" + name + ".json");
    ASSERT_FALSE(file.empty()) << name;
    EXPECT_EQ(trim(file), trim(std::string(Ontology::builtin_text(name))))
        << "run: bash src/dialog/gen_builtin_ontologies.sh";
    const Ontology from_file = Ontology::load(std::string(METADIAL_SOURCE_DIR) + "/data/ontologies/" + name + ".json");
    EXPECT_EQ(from_file.num_slots(), Ontology::builtin(name).num_slots());
  }
  EXPECT_THROW(Ontology::builtin("flights"), InvalidArgument);
}

TEST(Ontology, MalformedFilesNameTheFileAndTheKey) {
  // Not JSON at all.
  try {
    Ontology::parse("{ not json", "bad.json");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
  }
  const std::string entity = R"("entity": {"slot": "name", "name_parts": [["x"]]})";
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "informable": true}], "requestable": ["name"]})",
                    "[slots[0]] needs values");
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "informable": true, "values": []}], "requestable": ["name"]})",
                    "[slots[0]] values must be a non-empty array of strings");
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "informable": true, "values": ["x", "x"]}], "requestable": ["name"]})",
                    "[slots[0]] values lists 'x' twice");
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "informable": true, "values": ["x"], "colour": 1}], "requestable": ["name"]})",
                    "unknown key 'colour' in [slots[0]]");
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "informable": true, "values": ["x"]}], "requestable": ["b"]})",
                    "requestable names the unknown slot 'b'");
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "informable": true, "values": ["x"]}]})",
                    "the top level needs requestable");
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "informable": "yes", "values": ["x"]}], "requestable": ["name"]})",
                    "[slots[0]] informable must be a boolean, got a string");
  expect_data_error(R"({"domain": 3, )" + entity + R"(, "slots": [{"name": "a", "informable": true, "values": ["x"]}], "requestable": ["name"]})",
                    "domain must be a string, got an integer");
  expect_data_error(R"({"domain": "d", "slots": [{"name": "a", "informable": true, "values": ["x"]}], "requestable": ["name"]})",
                    "the top level needs entity");
  expect_data_error(R"({"domain": "d", )" + entity + R"(, "slots": [{"name": "a", "pattern": "#"}], "requestable": ["name"]})",
                    "slots has no informable slot");
}

TEST(Ontology, ErrorsGiveTheLineOfTheKey) {
  const std::string text =
      "{\n  \"domain\": \"d\",\n  \"entity\": {\"slot\": \"name\", \"name_parts\": [[\"x\"]]},\n  \"slots\": [\n"
      "    {\"name\": \"a\", \"informable\": true,\n     \"values\": [\"x\"], \"colour\": 1}\n  ],\n"
      "  \"requestable\": [\"name\"]\n}\n";
  try {
    Ontology::parse(text, "o.json");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "o.json:6: unknown key 'colour' in [slots[0]] (expected one of: in_kb, informable, "
                           "kb_skew, name, pattern, required, values)");
  }
}

TEST(Ontology, UnreadableFileIsADataErrorNamingThePath) {
  try {
    Ontology::load("/nonexistent/ontology.json");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ontology.json"), std::string::npos);
  }
}

TEST(Ontology, ToyOntologyParses) {
  const Ontology o = Ontology::parse(testing::kToyOntology, "toy.json");
  EXPECT_EQ(o.num_informable(), 2);
  EXPECT_EQ(o.num_requestable(), 4);
  EXPECT_EQ(o.system_requestable().size(), 2u);  // defaults to every informable slot
}

}  // namespace
}  // namespace metadial::dialog
