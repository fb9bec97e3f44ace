#include "cli/csv.h"

namespace mast {

bool CsvReader::ReadLine(std::string* line) {
  if (!std::getline(*in_, *line)) return false;
  ++line_;
  if (line_ == 1 && line->rfind("\xEF\xBB\xBF", 0) == 0) line->erase(0, 3);
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

StatusOr<bool> CsvReader::Next(CsvRecord* record) {
  std::string line;
  do {
    if (!ReadLine(&line)) return false;
  } while (line.empty());
  record->cells.clear();
  record->line = line_;

  std::string cell;
  size_t i = 0;
  for (;;) {
    // At the start of a field.
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {  // inside quotes, possibly across lines
        if (i == line.size()) {
          if (!ReadLine(&line)) {
            return InvalidArgument("line " + std::to_string(record->line) +
                                   ": a quoted field is never closed");
          }
          cell.push_back('\n');
          i = 0;
          continue;
        }
        const char c = line[i++];
        if (c != '"') {
          cell.push_back(c);
        } else if (i < line.size() && line[i] == '"') {
          cell.push_back('"');
          ++i;
        } else {
          break;  // the closing quote
        }
      }
      if (i < line.size() && line[i] != ',') {
        return InvalidArgument("line " + std::to_string(line_) +
                               ": unexpected text after a closing quote");
      }
    } else {
      const size_t end = std::min(line.find(',', i), line.size());
      cell.append(line, i, end - i);
      i = end;
    }
    record->cells.push_back(std::move(cell));
    cell.clear();
    if (i == line.size()) return true;
    ++i;  // the comma
  }
}

void AppendCsvField(std::string_view field, std::string* out) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendCsvField(fields[i], &out);
  }
  return out;
}

}  // namespace mast
