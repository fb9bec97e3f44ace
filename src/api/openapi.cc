#include "common/json_writer.h"
#include "api/openapi.h"

#include <map>

#include <boost/json.hpp>

namespace mast {

namespace json = boost::json;

namespace {

json::object ErrorSchema(ErrorStyle style) {
  switch (style) {
    case ErrorStyle::kClassic:
      return json::object{{"type", "object"},
                          {"properties", json::object{{"detail", json::object{}}}}};
    case ErrorStyle::kOip:
      return json::object{
          {"type", "object"},
          {"properties", json::object{{"error", json::object{{"type", "string"}}}}}};
    case ErrorStyle::kNative:
      return json::object{
          {"type", "object"},
          {"properties",
           json::object{{"error",
                         json::object{{"type", "object"},
                                      {"properties",
                                       json::object{{"code", json::object{{"type", "string"}}},
                                                    {"message", json::object{{"type", "string"}}}}}}}}}};
    case ErrorStyle::kMlflow:
      return json::object{
          {"type", "object"},
          {"properties", json::object{{"error_code", json::object{{"type", "string"}}},
                                      {"message", json::object{{"type", "string"}}}}}};
  }
  return {};
}

json::object TypeOnly(const char* type) { return json::object{{"type", type}}; }

json::object JsonBody(json::object schema) {
  json::object media{{"schema", std::move(schema)}};
  return json::object{{"required", true},
                      {"content", json::object{{"application/json", std::move(media)}}}};
}

json::object RequestBodyFor(const RouteInfo& r) {
  if (r.pattern.find("/infer") != std::string::npos) {
    json::object tensor_props;
    tensor_props["name"] = TypeOnly("string");
    tensor_props["shape"] = json::object{{"type", "array"}, {"items", TypeOnly("integer")}};
    tensor_props["datatype"] = json::object{
        {"type", "string"},
        {"enum", json::array{"BOOL", "INT32", "INT64", "FP32", "FP64", "BYTES"}}};
    tensor_props["data"] = json::object{{"type", "array"},
                                        {"description", "flat or nested, row-major"}};
    json::object tensor{{"type", "object"},
                        {"required", json::array{"name", "shape", "datatype", "data"}},
                        {"properties", std::move(tensor_props)}};
    json::object output{{"type", "object"},
                        {"properties", json::object{{"name", TypeOnly("string")}}}};
    json::object props;
    props["id"] = TypeOnly("string");
    props["inputs"] = json::object{{"type", "array"}, {"items", std::move(tensor)}};
    props["outputs"] = json::object{{"type", "array"}, {"items", std::move(output)}};
    return JsonBody(json::object{{"type", "object"},
                                 {"required", json::array{"inputs"}},
                                 {"properties", std::move(props)}});
  }
  json::object row{{"type", "object"},
                   {"description", "named features: {\"feature\": value, ...}"},
                   {"additionalProperties", true}};
  json::object rows{{"type", "array"}, {"items", row}};
  return JsonBody(json::object{{"oneOf", json::array{row, rows}}});
}

}  // namespace

std::string OpenApiDocument(const std::vector<RouteInfo>& routes,
                            const std::string& version) {
  std::map<std::string, json::object> paths;
  for (const auto& r : routes) {
    json::object op{{"summary", r.summary}, {"tags", json::array{json::string(r.tag)}}};
    json::array params;
    for (const auto& seg : SplitPath(r.pattern)) {
      if (seg.size() > 2 && seg.front() == '{') {
        params.push_back(json::object{{"name", seg.substr(1, seg.size() - 2)},
                                      {"in", "path"},
                                      {"required", true},
                                      {"schema", json::object{{"type", "string"}}}});
      }
    }
    if (r.pattern.find("/predict") != std::string::npos) {
      params.push_back(json::object{
          {"name", "proba"},
          {"in", "query"},
          {"required", false},
          {"description", "true: also return class probabilities (classifiers)"},
          {"schema", json::object{{"type", "boolean"}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (r.method == http::verb::post) op["requestBody"] = RequestBodyFor(r);
    json::object error_content{
        {"application/json", json::object{{"schema", ErrorSchema(r.style)}}}};
    op["responses"] = json::object{
        {"200", json::object{{"description", "OK"}}},
        {"4XX", json::object{{"description", "client error"}, {"content", error_content}}},
        {"503", json::object{{"description", "not ready or overloaded"}, {"content", error_content}}}};
    std::string method(http::to_string(r.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    paths[r.pattern][method] = std::move(op);
  }
  json::object p;
  for (auto& [k, v] : paths) p[k] = std::move(v);
  json::object doc{
      {"openapi", "3.0.3"},
      {"info", json::object{{"title", "mast"},
                            {"version", version},
                            {"description",
                             "Model serving: the classic /predict API, the Open "
                             "Inference Protocol (KServe V2) under /v2, and "
                             "operational routes."}}},
      {"paths", std::move(p)}};
  return ToJson(doc);
}

namespace {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string DocsPage(const std::vector<RouteInfo>& routes, const std::string& version) {
  std::string html =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>mast API</title>"
      "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
      "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
      "padding:.4em;text-align:left}code{background:#f4f4f4;padding:0 .2em}"
      ".m{font-weight:bold;font-family:monospace}</style></head><body>"
      "<h1>mast API <small>" + HtmlEscape(version) + "</small></h1>"
      "<p>Machine-readable description: <a href=\"/openapi.json\">/openapi.json</a>. "
      "Metrics: <a href=\"/metrics\">/metrics</a>.</p>";
  std::map<std::string, std::vector<const RouteInfo*>> by_tag;
  for (const auto& r : routes) by_tag[r.tag].push_back(&r);
  static const std::map<std::string, std::string> kTitles = {
      {"classic", "Classic prediction API (FastAPI-compatible)"},
      {"oip", "Open Inference Protocol (KServe V2)"},
      {"ops", "Operations"}};
  for (const auto& [tag, rs] : by_tag) {
    auto t = kTitles.find(tag);
    html += "<h2>" + HtmlEscape(t != kTitles.end() ? t->second : tag) + "</h2><table>"
            "<tr><th>method</th><th>path</th><th>what it does</th></tr>";
    for (const RouteInfo* r : rs) {
      html += "<tr><td class=\"m\">" + std::string(http::to_string(r->method)) +
              "</td><td><code>" + HtmlEscape(r->pattern) + "</code></td><td>" +
              HtmlEscape(r->summary) + "</td></tr>";
    }
    html += "</table>";
  }
  html +=
      "<h2>Examples</h2><pre>curl -s localhost:8000/health\n"
      "curl -s -X POST localhost:8000/predict -H 'content-type: application/json' "
      "-d '{\"feature_a\": 1.0, \"feature_b\": 2}'\n"
      "curl -s -X POST 'localhost:8000/predict?proba=true' -d '[{...}, {...}]'\n"
      "curl -s -X POST localhost:8000/v2/models/NAME/infer -d "
      "'{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\","
      "\"data\":[1,2,3,4]}]}'</pre></body></html>";
  return html;
}

}  // namespace

void RegisterOperationalRoutes(Gateway* gateway, ServingContext* ctx) {
  gateway->AddRoute({http::verb::get, "/metrics", ErrorStyle::kNative,
                     "Prometheus metrics (text format 0.0.4)", "ops",
                     [ctx](std::shared_ptr<Exchange> ex) {
                       ex->Reply(200, ctx->registry->Render(),
                                 "text/plain; version=0.0.4; charset=utf-8");
                     }});
  // The documents list every route, including the two added here.
  auto openapi = std::make_shared<std::string>();
  auto docs = std::make_shared<std::string>();
  gateway->AddRoute({http::verb::get, "/openapi.json", ErrorStyle::kNative,
                     "This API's OpenAPI 3.0 description", "ops",
                     [openapi](std::shared_ptr<Exchange> ex) { ex->Reply(200, *openapi); }});
  gateway->AddRoute({http::verb::get, "/docs", ErrorStyle::kNative,
                     "This API as a readable page", "ops",
                     [docs](std::shared_ptr<Exchange> ex) {
                       ex->Reply(200, *docs, "text/html; charset=utf-8");
                     }});
  *openapi = OpenApiDocument(gateway->routes(), ctx->server_version);
  *docs = DocsPage(gateway->routes(), ctx->server_version);
}

}  // namespace mast
