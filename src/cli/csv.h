// CSV as RFC 4180 writes it, for the CLI's tabular input and output.
//
// CsvReader splits a stream into records: fields separated by commas,
// records by LF or CRLF; a field in double quotes may hold commas, line
// breaks and doubled quotes (""). A UTF-8 byte order mark at the start is
// skipped. Cells are returned as text, unquoted; typing them is the caller's
// business.
//
// AppendCsvField quotes a field only when it must (it holds a comma, a quote,
// a line break, or starts or ends with a space), so plain numbers and names
// are written as they are.
//
// Thread-safety: a CsvReader is used by one thread; the stream it reads is
// borrowed and must outlive it. AppendCsvField is a pure function.
#ifndef MAST_CLI_CSV_H_
#define MAST_CLI_CSV_H_

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mast {

struct CsvRecord {
  std::vector<std::string> cells;
  int64_t line = 0;  // 1-based line of the input where the record starts
};

class CsvReader {
 public:
  explicit CsvReader(std::istream* in) : in_(in) {}
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into `record`. Returns false at the end of the
  // input. Empty lines are skipped. Errors: kInvalidArgument for a quoted
  // field that is never closed or text after a closing quote, naming the
  // line.
  StatusOr<bool> Next(CsvRecord* record);

 private:
  // Reads one physical line (without its LF or CRLF) into `line`; false at
  // the end of the input.
  bool ReadLine(std::string* line);

  std::istream* in_;
  int64_t line_ = 0;  // lines read so far
};

// Appends `field` to `out`, quoted if it must be.
void AppendCsvField(std::string_view field, std::string* out);

// The fields as one CSV line, without the line break.
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace mast

#endif  // MAST_CLI_CSV_H_
