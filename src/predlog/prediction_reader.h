// PredictionReader: reads the prediction log's segments back as JSON lines,
// filtered by model, version and time, for GET /api/v1/predictions.
//
// Segments are read in name order (their start time), lines in the order
// they were written. Only complete lines count: a line without its newline
// (a write cut short by a crash) and a line that is not a JSON object are
// skipped and counted, so a damaged segment never stops the reading.
// Segments that cannot hold rows in [since, until) (by their start time in
// the name and their last modification) are not opened.
//
// Thread-safety: one reader is used by one thread at a time; several readers
// may read the same directory while the log writes to it.
#ifndef MAST_PREDLOG_PREDICTION_READER_H_
#define MAST_PREDLOG_PREDICTION_READER_H_

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace mast {

struct PredictionQuery {
  std::string model;    // empty: every model
  std::string version;  // empty: every version
  std::optional<std::chrono::system_clock::time_point> since;  // inclusive
  std::optional<std::chrono::system_clock::time_point> until;  // exclusive
  int64_t limit = 0;    // rows; 0: no limit
};

class PredictionReader {
 public:
  PredictionReader(std::string dir, PredictionQuery query);

  // Appends matching lines (each ending in '\n') to `out` until about
  // `max_bytes` were added. Returns false once there is nothing more.
  // Errors: kInternal if a segment cannot be read (not for bad lines).
  StatusOr<bool> ReadSome(std::string* out, size_t max_bytes);

  int64_t rows() const { return rows_; }
  // Incomplete or unparsable lines skipped so far.
  int64_t skipped() const { return skipped_; }

 private:
  void ListSegments();
  bool Matches(std::string_view line);

  std::string dir_;
  PredictionQuery query_;
  std::string since_text_;  // RFC 3339 (ms, UTC): compares as text
  std::string until_text_;
  bool listed_ = false;
  std::vector<std::string> segments_;
  size_t next_ = 0;
  std::ifstream current_;
  int64_t rows_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace mast

#endif  // MAST_PREDLOG_PREDICTION_READER_H_
