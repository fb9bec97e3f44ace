#include "api/router.h"

namespace mast {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() &&
        HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Appends the non-empty segments of `path`, as views of it, to `out`.
void SplitSegments(std::string_view path, std::vector<std::string_view>* out) {
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out->push_back(path.substr(i, j - i));
    i = j;
  }
}

}  // namespace

std::string_view RouteMatch::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  SplitSegments(path, &segments);
  std::vector<std::string> out;
  out.reserve(segments.size());
  for (std::string_view s : segments) out.push_back(PercentDecode(s));
  return out;
}

int Router::Add(boost::beast::http::verb method, std::string pattern) {
  Route r{method, pattern, {}};
  for (std::string& t : SplitPath(pattern)) {
    const bool param = t.size() > 2 && t.front() == '{' && t.back() == '}';
    r.segments.push_back({param ? t.substr(1, t.size() - 2) : std::move(t), param});
  }
  routes_.push_back(std::move(r));
  return static_cast<int>(routes_.size() - 1);
}

bool Router::Fits(const Route& route, const std::vector<std::string_view>& segments) {
  if (route.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!route.segments[i].param && route.segments[i].text != segments[i]) return false;
  }
  return true;
}

RouteMatch Router::Match(boost::beast::http::verb method,
                         std::string_view path) const {
  // The path's segments as views of `path`, or of decoded copies when a
  // segment has percent escapes (rare).
  thread_local std::vector<std::string_view> segments;
  thread_local std::vector<std::string> decoded;
  segments.clear();
  decoded.clear();
  if (path.find('%') != std::string_view::npos) {
    decoded = SplitPath(path);
    segments.assign(decoded.begin(), decoded.end());
  } else {
    SplitSegments(path, &segments);
  }
  RouteMatch match;
  for (size_t id = 0; id < routes_.size(); ++id) {
    const Route& r = routes_[id];
    if (!Fits(r, segments)) continue;
    if (r.method == method ||
        (method == boost::beast::http::verb::head &&
         r.method == boost::beast::http::verb::get)) {
      match.result = RouteMatch::kFound;
      match.route_id = static_cast<int>(id);
      for (size_t i = 0; i < segments.size(); ++i) {
        if (r.segments[i].param) match.params.emplace_back(r.segments[i].text, segments[i]);
      }
      match.allowed.clear();
      return match;
    }
    match.result = RouteMatch::kMethodNotAllowed;
    if (!match.allowed.empty()) match.allowed += ", ";
    match.allowed += std::string(boost::beast::http::to_string(r.method));
  }
  return match;
}

}  // namespace mast
