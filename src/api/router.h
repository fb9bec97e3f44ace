// Router: maps (method, path) to a route by templates such as
// "/v2/models/{model}/versions/{version}/infer".
//
// A path that matches a template under another method yields
// kMethodNotAllowed with the allowed methods; otherwise kNotFound.
// Thread-safety: build with Add() before serving; Match() is then const and
// safe from any thread.
#ifndef MAST_API_ROUTER_H_
#define MAST_API_ROUTER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ostream>  // boost/core/detail/string_view.hpp needs it
#include <boost/beast/http/verb.hpp>

namespace mast {

struct RouteMatch {
  enum Result { kFound, kNotFound, kMethodNotAllowed } result = kNotFound;
  int route_id = -1;
  // Template parameter values, e.g. {"model", "churn"}.
  std::vector<std::pair<std::string, std::string>> params;
  // With kMethodNotAllowed: e.g. "GET, POST".
  std::string allowed;

  // The value of parameter `name`, or empty.
  std::string_view Param(std::string_view name) const;
};

class Router {
 public:
  // Registers `pattern` for `method` and returns its route id (0, 1, ...).
  // Segments in braces are parameters matching one non-empty path segment.
  int Add(boost::beast::http::verb method, std::string pattern);
  RouteMatch Match(boost::beast::http::verb method, std::string_view path) const;
  const std::string& pattern(int route_id) const { return routes_[route_id].pattern; }

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool param = false;
  };
  struct Route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<Segment> segments;
  };
  // Whether `segments` (a path's, decoded) fit `route`; no allocation.
  static bool Fits(const Route& route, const std::vector<std::string_view>& segments);
  std::vector<Route> routes_;
};

// Splits "/a/b/" into {"a","b"}; percent-decodes each segment.
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace mast

#endif  // MAST_API_ROUTER_H_
