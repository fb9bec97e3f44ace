// ReadFlatObject: reads the common shape of a /predict body, one JSON object
// whose members are numbers, booleans, nulls and plain strings, in one pass
// over the text and without building a document: several times fewer
// instructions than boost::json's general parser for the same body.
//
// It reads only what it can read exactly as boost::json does (the values it
// stores are bit for bit the ones boost::json::parse gives) and gives up on
// anything else, valid or not: nesting, a string with an escape or a byte
// outside ASCII (UTF-8 is then the general parser's to check), a number with
// more than 15 digits or an exponent of more than 3 digits, a malformed
// text. The caller then takes the general parser.
//
// Thread-safety: a pure function of its arguments.
#ifndef MAST_FEATURES_FLAT_OBJECT_READER_H_
#define MAST_FEATURES_FLAT_OBJECT_READER_H_

#include <boost/json/value.hpp>
#include <string_view>

#include "common/json_scan.h"

namespace mast {

// Reads `text` as one flat JSON object. For each member calls
// `slot(key, &stop)`, which returns where the member's value goes (nullptr:
// the value is read and dropped) or sets `stop` to give up. Returns true
// once the whole text was read; false if it gave up or could not read the
// text (the slots then hold a partial result).
template <typename SlotFn>
bool ReadFlatObject(std::string_view text, SlotFn&& slot) {
  using namespace json_scan;
  const char* const end = text.data() + text.size();
  const char* p = ReadMembers(SkipSpace(text.data(), end), end,
                              [&](std::string_view key, const char* value) -> const char* {
                                bool stop = false;
                                boost::json::value* out = slot(key, &stop);
                                return stop ? nullptr : ReadScalar(value, end, out);
                              });
  return p != nullptr && SkipSpace(p, end) == end;
}

}  // namespace mast

#endif  // MAST_FEATURES_FLAT_OBJECT_READER_H_
