#include "common/json_writer.h"

#include <gtest/gtest.h>

namespace liaison {
namespace {

TEST(JsonWriter, WritesNestedDocumentsWithCommas) {
  JsonWriter w;
  w.BeginObject();
  w.Key("more");
  w.Bool(true);
  w.Key("objects");
  w.BeginArray();
  w.Raw(R"({"id":"x"})");
  w.Int(-3);
  w.Null();
  w.EndArray();
  w.Key("n");
  w.Uint(7);
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"more":true,"objects":[{"id":"x"},-3,null],"n":7})");
}

TEST(JsonWriter, EscapesControlCharactersAndQuotes) {
  JsonWriter w;
  w.String(std::string("a\"b\\c\n\x01", 7));
  EXPECT_EQ(w.str(), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace liaison
