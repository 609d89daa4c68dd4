// The metadata of an exported pyframegan generator (the "pyframegan.json" extra file that
// pyframegan/export.py writes into the TorchScript archive), read and checked without Python.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace pyframegan {

// No file at the model path (Python: a FileNotFoundError).
struct ModelNotFoundError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A file that is not a pyframegan model, or one this version cannot read (Python: a ValueError).
struct InvalidModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kModelFormat = "pyframegan-generator";
inline constexpr int64_t kModelFormatVersion = 1;
inline constexpr const char* kMetadataFile = "pyframegan.json";  // stored as extra/pyframegan.json

struct ModelMetadata {
  std::string json;  // the file as stored (it also holds the model and training configs)
  std::string format;
  int64_t version = 0;
  int64_t n_in = 0;      // frames the generator reads (3 * n_in input channels)
  int64_t n_out = 0;     // frames it writes, in time order (3 * n_out output channels)
  int64_t multiple = 1;  // input height and width must be multiples of this (pack_pairs pads)
};

// The top-level members of a JSON object, each as its raw JSON text (strings keep their quotes;
// nested objects and arrays are kept whole, not parsed). Throws std::invalid_argument on text that
// is not a JSON object. Enough JSON for the metadata; not a general-purpose parser.
std::map<std::string, std::string> json_object_members(const std::string& text);

// Parses and checks metadata text; `source` names the file in error messages.
ModelMetadata parse_metadata(const std::string& json, const std::string& source);

// Reads and checks the metadata of the model archive at `path` without loading the model.
// Throws ModelNotFoundError or InvalidModelError with a message that says what is wrong.
ModelMetadata read_metadata(const std::string& path);

}  // namespace pyframegan
