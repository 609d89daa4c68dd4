// Reading pyframegan.json: a small JSON scanner for the top-level members and the checks of the
// model metadata, the one reader (Python's pyframegan.export.read_metadata calls it as _C.read_metadata).
#include "metadata.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>

#include <charconv>
#include <filesystem>

namespace pyframegan {
namespace {

// Walks JSON text; positions are byte offsets. Values are skipped, not built.
class JsonScanner {
 public:
  explicit JsonScanner(const std::string& text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r'))
      ++pos_;
  }

  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

  char peek() {
    skip_space();
    if (pos_ == text_.size()) fail("unexpected end of text");
    return text_[pos_];
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  // A string literal, decoded (the escapes a JSON writer emits for ASCII text; \uXXXX is kept as is).
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated string");
      char e = text_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': out += "\\u"; break;
        default: out += e;  // \" \\ \/
      }
    }
  }

  // Skips one value (string, number, literal, or a whole object / array); returns its raw text.
  std::string value() {
    const size_t start = (skip_space(), pos_);
    const char c = peek();
    if (c == '"') {
      string();
    } else if (c == '{' || c == '[') {
      int depth = 0;
      do {
        const char d = peek();
        if (d == '"') {
          string();
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') --depth;
        ++pos_;
      } while (depth > 0);
    } else {
      while (pos_ < text_.size() && std::string_view(",}] \t\r\n").find(text_[pos_]) == std::string_view::npos)
        ++pos_;
      if (pos_ == start) fail("expected a value");
    }
    return text_.substr(start, pos_ - start);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("invalid JSON at byte " + std::to_string(pos_) + ": " + what);
  }

 private:
  const std::string& text_;
  size_t pos_ = 0;
};

int64_t integer_member(const std::map<std::string, std::string>& members, const std::string& key,
                       const std::string& source) {
  auto it = members.find(key);
  int64_t value = 0;
  if (it != members.end()) {
    const std::string& raw = it->second;
    auto [end, error] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (error == std::errc() && end == raw.data() + raw.size()) return value;
  }
  throw InvalidModelError(source + ": " + kMetadataFile + " has no integer \"" + key + "\"" +
                          (it == members.end() ? "" : " (got " + it->second + ")") +
                          "; re-export the model with `pyframegan export`");
}

std::string string_member(const std::map<std::string, std::string>& members, const std::string& key) {
  auto it = members.find(key);
  if (it == members.end() || it->second.empty() || it->second.front() != '"') return "";
  return JsonScanner(it->second).string();
}

}  // namespace

std::map<std::string, std::string> json_object_members(const std::string& text) {
  JsonScanner scan(text);
  std::map<std::string, std::string> members;
  scan.expect('{');
  if (scan.peek() == '}') {
    scan.expect('}');
  } else {
    while (true) {
      std::string key = scan.string();
      scan.expect(':');
      members[key] = scan.value();
      if (scan.peek() == '}') {
        scan.expect('}');
        break;
      }
      scan.expect(',');
    }
  }
  if (!scan.at_end()) scan.fail("text after the object");
  return members;
}

ModelMetadata parse_metadata(const std::string& json, const std::string& source) {
  std::map<std::string, std::string> members;
  try {
    members = json_object_members(json);
  } catch (const std::invalid_argument& e) {
    throw InvalidModelError(source + ": unreadable " + kMetadataFile + " (" + e.what() + ")");
  }
  ModelMetadata meta;
  meta.json = json;
  meta.format = string_member(members, "format");
  if (meta.format != kModelFormat) {
    throw InvalidModelError(source + " is not a pyframegan generator (format " +
                            (members.count("format") ? members["format"] : "missing") + ")");
  }
  meta.version = integer_member(members, "version", source);
  if (meta.version != kModelFormatVersion) {
    throw InvalidModelError(source + " has pyframegan model format version " + std::to_string(meta.version) +
                            "; this pyframegan reads version " + std::to_string(kModelFormatVersion) +
                            " (re-export it with this version's `pyframegan export`)");
  }
  meta.n_in = integer_member(members, "n_in", source);
  meta.n_out = integer_member(members, "n_out", source);
  meta.multiple = integer_member(members, "multiple", source);
  if (meta.n_in < 1 || meta.n_out < 1 || meta.multiple < 1) {
    throw InvalidModelError(source + ": " + kMetadataFile + " has n_in=" + std::to_string(meta.n_in) +
                            ", n_out=" + std::to_string(meta.n_out) + ", multiple=" +
                            std::to_string(meta.multiple) + "; all must be positive");
  }
  return meta;
}

ModelMetadata read_metadata(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw ModelNotFoundError("no model file at " + path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> archive;
  try {
    archive = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error&) {
    throw InvalidModelError(path + " is not a pyframegan model (not a TorchScript archive)");
  }
  const std::string record = std::string("extra/") + kMetadataFile;
  if (!archive->hasRecord(record)) {
    throw InvalidModelError(path + " is a PyTorch archive but not a pyframegan model (no " + kMetadataFile +
                            "); a training checkpoint must be exported first: "
                            "`pyframegan export CHECKPOINT -o MODEL.pt`");
  }
  auto [data, size] = archive->getRecord(record);
  return parse_metadata(std::string(static_cast<const char*>(data.get()), size), path);
}

}  // namespace pyframegan
