#include "taxii/media_type.h"

#include <string>

#include "gtest/gtest.h"

namespace liaison::taxii {
namespace {

struct AcceptCase {
  const char* accept;
  StatusCode expected;
};

class NegotiateAcceptTable : public ::testing::TestWithParam<AcceptCase> {};

TEST_P(NegotiateAcceptTable, Decides) {
  const AcceptCase& c = GetParam();
  Status s = NegotiateAccept(c.accept);
  EXPECT_EQ(s.code(), c.expected) << "Accept: " << c.accept << " -> " << s.ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Table, NegotiateAcceptTable,
    ::testing::Values(
        // Refused first.
        AcceptCase{"application/taxii+json;version=2.0", StatusCode::kNotAcceptable},
        AcceptCase{"application/taxii+json;version=2.10", StatusCode::kNotAcceptable},
        AcceptCase{"application/json", StatusCode::kNotAcceptable},
        AcceptCase{"text/html", StatusCode::kNotAcceptable},
        AcceptCase{"application/stix+json;version=2.1", StatusCode::kNotAcceptable},
        AcceptCase{"application/taxii+json;q=0", StatusCode::kNotAcceptable},
        AcceptCase{"application/taxii+json;version=2.1;q=0", StatusCode::kNotAcceptable},
        AcceptCase{"*/*;q=0", StatusCode::kNotAcceptable},
        // The most specific range decides, even when a wildcard would allow.
        AcceptCase{"application/taxii+json;version=2.1;q=0, */*", StatusCode::kNotAcceptable},
        AcceptCase{"application/*;q=0, */*;q=1", StatusCode::kNotAcceptable},
        AcceptCase{"application/taxii+json;charset=latin1", StatusCode::kNotAcceptable},
        AcceptCase{"garbage", StatusCode::kNotAcceptable},
        AcceptCase{"application/taxii+json;q=2", StatusCode::kNotAcceptable},  // bad qvalue
        AcceptCase{"application/taxii+json;q=0.0001", StatusCode::kNotAcceptable},
        AcceptCase{"*/taxii+json", StatusCode::kNotAcceptable},  // not a valid range
        AcceptCase{"application/taxii+json;version=\"2.1", StatusCode::kNotAcceptable},
        AcceptCase{",,,", StatusCode::kNotAcceptable},
        // Accepted.
        AcceptCase{"", StatusCode::kOk},  // absent: anything (RFC 9110 section 12.5.1)
        AcceptCase{"application/taxii+json;version=2.1", StatusCode::kOk},
        AcceptCase{"application/taxii+json", StatusCode::kOk},  // latest = 2.1
        AcceptCase{"APPLICATION/TAXII+JSON; Version=2.1", StatusCode::kOk},
        AcceptCase{"application/taxii+json ; version=\"2.1\"", StatusCode::kOk},
        AcceptCase{"application/taxii+json;version=2.1;charset=UTF-8", StatusCode::kOk},
        AcceptCase{"*/*", StatusCode::kOk}, AcceptCase{"application/*", StatusCode::kOk},
        AcceptCase{"text/html, application/xhtml+xml, */*;q=0.8", StatusCode::kOk},
        AcceptCase{"application/taxii+json;version=2.0, application/taxii+json;version=2.1",
                   StatusCode::kOk},
        // A versioned range is more specific than the bare one.
        AcceptCase{"application/taxii+json;q=0, application/taxii+json;version=2.1",
                   StatusCode::kOk},
        AcceptCase{"application/taxii+json;version=2.1,application/stix+json;version=2.1",
                   StatusCode::kOk},
        AcceptCase{"application/taxii+json;version=2.1;q=0.001", StatusCode::kOk},
        AcceptCase{"application/taxii+json;version=2.1;q=1.000", StatusCode::kOk},
        AcceptCase{"garbage, application/taxii+json", StatusCode::kOk},
        AcceptCase{"application/taxii+json;foo=bar", StatusCode::kOk},
        AcceptCase{"application/json;q=0.9, application/taxii+json;version=2.1;q=0.5",
                   StatusCode::kOk}));

TEST(NegotiateAccept, RefusesOversizedHeaders) {
  std::string long_header(kMaxAcceptBytes + 1, ' ');
  EXPECT_EQ(NegotiateAccept(long_header).code(), StatusCode::kInvalidArgument);

  std::string many;
  for (size_t i = 0; i <= kMaxAcceptRanges; ++i) many += "text/plain,";
  many += "*/*";
  EXPECT_EQ(NegotiateAccept(many).code(), StatusCode::kInvalidArgument);
}

TEST(NegotiateAccept, MessageNamesTheProducedType) {
  Status s = NegotiateAccept("application/json");
  EXPECT_NE(s.message().find("application/taxii+json;version=2.1"), std::string::npos);
}

struct ContentTypeCase {
  const char* content_type;
  StatusCode expected;
};

class ContentTypeTable : public ::testing::TestWithParam<ContentTypeCase> {};

TEST_P(ContentTypeTable, Decides) {
  const ContentTypeCase& c = GetParam();
  Status s = CheckRequestContentType(c.content_type);
  EXPECT_EQ(s.code(), c.expected) << "Content-Type: " << c.content_type << " -> " << s.ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ContentTypeTable,
    ::testing::Values(
        ContentTypeCase{"", StatusCode::kUnsupportedMediaType},
        ContentTypeCase{"application/json", StatusCode::kUnsupportedMediaType},
        ContentTypeCase{"application/stix+json;version=2.1", StatusCode::kUnsupportedMediaType},
        ContentTypeCase{"application/taxii+json;version=2.0", StatusCode::kUnsupportedMediaType},
        ContentTypeCase{"application/taxii+json;charset=iso-8859-1",
                        StatusCode::kUnsupportedMediaType},
        ContentTypeCase{"application/*", StatusCode::kUnsupportedMediaType},
        ContentTypeCase{"application/taxii+json;version", StatusCode::kUnsupportedMediaType},
        ContentTypeCase{"application/taxii+json;q=1", StatusCode::kOk},  // q is just a parameter
        ContentTypeCase{"application/taxii+json;version=2.1", StatusCode::kOk},
        ContentTypeCase{"application/taxii+json", StatusCode::kOk},
        ContentTypeCase{"Application/TAXII+JSON; version=2.1; charset=utf-8", StatusCode::kOk}));

TEST(CheckRequestContentType, MessageEchoesAShortenedType) {
  std::string huge = "application/" + std::string(10000, 'x');
  Status s = CheckRequestContentType(huge);
  EXPECT_EQ(s.code(), StatusCode::kUnsupportedMediaType);
  EXPECT_LT(s.message().size(), 300u);
}

}  // namespace
}  // namespace liaison::taxii
