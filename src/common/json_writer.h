#pragma once

// JsonWriter: builds the small JSON documents the hub emits itself (TAXII envelopes, status
// resources, errors, sightings) straight into a string. Stored STIX objects are never re-serialised:
// splice their bytes in with Raw().
//
//   JsonWriter w;
//   w.BeginObject();
//   w.Key("more"); w.Bool(false);
//   w.Key("objects"); w.BeginArray(); w.Raw(stored_json); w.EndArray();
//   w.EndObject();
//   std::string body = std::move(w).Take();
//
// Commas are inserted automatically. Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace liaison {

class JsonWriter {
 public:
  JsonWriter() { first_.push_back(true); }

  void BeginObject() { Prefix(); out_ += '{'; first_.push_back(true); }
  void EndObject() { first_.pop_back(); out_ += '}'; }
  void BeginArray() { Prefix(); out_ += '['; first_.push_back(true); }
  void EndArray() { first_.pop_back(); out_ += ']'; }
  // Inside an object: the next value's key.
  void Key(std::string_view k) {
    Prefix();
    AppendEscaped(k);
    out_ += ':';
    after_key_ = true;
  }
  void String(std::string_view s) { Prefix(); AppendEscaped(s); }
  void Int(int64_t v) { Prefix(); out_ += std::to_string(v); }
  void Uint(uint64_t v) { Prefix(); out_ += std::to_string(v); }
  void Double(double v);
  void Bool(bool v) { Prefix(); out_ += v ? "true" : "false"; }
  void Null() { Prefix(); out_ += "null"; }
  // Appends already-serialised JSON (e.g. a stored object's bytes) as one value.
  void Raw(std::string_view json) { Prefix(); out_ += json; }

  const std::string& str() const { return out_; }
  std::string Take() && { return std::move(out_); }

  // Appends `s` as a JSON string literal (with quotes) to `out`.
  static void AppendEscaped(std::string& out, std::string_view s);

 private:
  void Prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
  void AppendEscaped(std::string_view s) { AppendEscaped(out_, s); }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace liaison
