// JsonWriter: serialises a boost::json::value compactly, writing numbers the
// way people read them: doubles as the shortest decimal that round-trips, in
// plain notation when that is shorter (0.973271, 12.5, 1e-07), where
// boost::json::serialize writes 9.73271E-1.
//
// Thread-safety: pure function.
#ifndef MAST_COMMON_JSON_WRITER_H_
#define MAST_COMMON_JSON_WRITER_H_

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace mast {

// Appends `s` as a JSON string (quoted and escaped) to `out`.
void AppendJsonString(std::string_view s, std::string* out);

// Appends `value` as JSON to `out`. Non-finite doubles are written as null.
void AppendJson(const boost::json::value& value, std::string* out);

inline std::string ToJson(const boost::json::value& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

}  // namespace mast

#endif  // MAST_COMMON_JSON_WRITER_H_
