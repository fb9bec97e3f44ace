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

}  // namespace

std::string_view RouteMatch::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(PercentDecode(path.substr(i, j - i)));
    i = j;
  }
  return out;
}

int Router::Add(boost::beast::http::verb method, std::string pattern) {
  Route r{method, pattern, SplitPath(pattern)};
  routes_.push_back(std::move(r));
  return static_cast<int>(routes_.size() - 1);
}

RouteMatch Router::Match(boost::beast::http::verb method,
                         std::string_view path) const {
  RouteMatch match;
  const std::vector<std::string> segments = SplitPath(path);
  for (size_t id = 0; id < routes_.size(); ++id) {
    const Route& r = routes_[id];
    if (r.segments.size() != segments.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& t = r.segments[i];
      if (t.size() > 2 && t.front() == '{' && t.back() == '}') {
        params.emplace_back(t.substr(1, t.size() - 2), segments[i]);
      } else {
        ok = t == segments[i];
      }
    }
    if (!ok) continue;
    if (r.method == method ||
        (method == boost::beast::http::verb::head &&
         r.method == boost::beast::http::verb::get)) {
      match.result = RouteMatch::kFound;
      match.route_id = static_cast<int>(id);
      match.params = std::move(params);
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
