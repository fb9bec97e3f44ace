#include "cli/perf_workload.h"

#include <cmath>
#include <set>
#include <vector>

#include <boost/json.hpp>

#include "cli/api_client.h"
#include "common/json_reader.h"
#include "common/json_writer.h"

namespace mast {

namespace json = boost::json;

namespace {

std::string ShapeText(const json::value& shape) { return ToJson(shape); }

// Why a classic body cannot become an OIP request, with what to do instead.
Status CannotConvert(const std::string& model, const std::string& why) {
  return InvalidArgument(
      "cannot send the named features over OIP: " + why + " (" +
      (model.empty() ? "the model" : "model '" + model + "'") +
      " must take one input per feature, named after it; OIP metadata does not say which "
      "feature is which column of a wider tensor). Give an OIP request body "
      "({\"inputs\": [...]}) as --input, or use --protocol classic");
}

// Whether `v` can be an element of an OIP tensor of `datatype`.
bool FitsDatatype(const json::value& v, std::string_view datatype) {
  if (datatype == "BOOL") return v.is_bool();
  if (datatype == "BYTES") return v.is_string();
  if (datatype == "FP32" || datatype == "FP64" || datatype == "FP16") return v.is_number();
  if (datatype.rfind("INT", 0) == 0 || datatype.rfind("UINT", 0) == 0) {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() && std::trunc(v.get_double()) == v.get_double();
  }
  return false;
}

StatusOr<json::array> RowsOf(const json::value& rows) {
  if (rows.is_object()) return json::array{rows};
  if (const json::array* a = rows.if_array()) {
    if (a->empty()) return InvalidArgument("the input is an empty array: give at least one row");
    for (size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_object()) {
        return InvalidArgument("row " + std::to_string(i) +
                               " of the input is not an object of named features");
      }
    }
    return *a;
  }
  return InvalidArgument(
      "the input must be a JSON object of named features, an array of them, or an OIP "
      "request body ({\"inputs\": [...]})");
}

int64_t OipRows(const json::object& request) {
  const json::array& inputs = request.at("inputs").get_array();
  if (inputs.empty() || !inputs[0].is_object()) return 1;
  const json::value* shape = inputs[0].get_object().if_contains("shape");
  if (shape == nullptr || !shape->is_array() || shape->get_array().empty() ||
      !shape->get_array()[0].is_int64()) {
    return 1;
  }
  return std::max<int64_t>(shape->get_array()[0].get_int64(), 1);
}

}  // namespace

const char* PerfProtocolName(PerfProtocol p) {
  switch (p) {
    case PerfProtocol::kClassic:
      return "classic";
    case PerfProtocol::kOip:
      return "oip";
    case PerfProtocol::kAuto:
      break;
  }
  return "auto";
}

bool IsOipRequest(const json::value& input) {
  const json::object* o = input.if_object();
  if (o == nullptr) return false;
  const json::value* inputs = o->if_contains("inputs");
  return inputs != nullptr && inputs->is_array();
}

StatusOr<std::string> OipBodyFromNamedRows(const json::value& rows_value,
                                           const json::value& metadata, const std::string& model) {
  ASSIGN_OR_RETURN(json::array rows, RowsOf(rows_value));
  const json::object* meta = metadata.if_object();
  const json::value* inputs_v = meta ? meta->if_contains("inputs") : nullptr;
  if (inputs_v == nullptr || !inputs_v->is_array() || inputs_v->get_array().empty()) {
    return InvalidArgument("the model metadata lists no inputs");
  }
  const json::array& inputs = inputs_v->get_array();
  const int64_t n = static_cast<int64_t>(rows.size());

  std::set<std::string> input_names;
  json::array tensors;
  for (const json::value& in_v : inputs) {
    const json::object* in = in_v.if_object();
    const json::value* name_v = in ? in->if_contains("name") : nullptr;
    const json::value* type_v = in ? in->if_contains("datatype") : nullptr;
    const json::value* shape_v = in ? in->if_contains("shape") : nullptr;
    if (!name_v || !name_v->is_string() || !type_v || !type_v->is_string() || !shape_v ||
        !shape_v->is_array()) {
      return InvalidArgument("the model metadata has an input without name, datatype or shape");
    }
    const std::string name(name_v->get_string());
    const std::string datatype(type_v->get_string());
    const json::array& shape = shape_v->get_array();
    input_names.insert(name);
    const std::string described =
        "input '" + name + "' (" + datatype + " " + ShapeText(*shape_v) + ")";
    if (!rows[0].get_object().contains(name)) {
      return CannotConvert(model, "model " + described + " is not a field of the input");
    }
    const bool one_column =
        shape.size() == 1 || (shape.size() == 2 && shape[1].is_int64() &&
                              (shape[1].get_int64() == 1 || shape[1].get_int64() == -1));
    if (!one_column) {
      return CannotConvert(model, "model " + described + " is not one value per row");
    }
    if (shape[0].is_int64() && shape[0].get_int64() >= 0 && shape[0].get_int64() != n) {
      return InvalidArgument("model " + described + " takes " +
                             std::to_string(shape[0].get_int64()) + " rows, the input has " +
                             std::to_string(n));
    }
    json::array data;
    for (int64_t r = 0; r < n; ++r) {
      const json::value* v = rows[r].get_object().if_contains(name);
      if (v == nullptr) {
        return InvalidArgument("row " + std::to_string(r) + " has no field '" + name + "'");
      }
      if (!FitsDatatype(*v, datatype)) {
        return InvalidArgument("row " + std::to_string(r) + ", field '" + name +
                               "': " + ToJson(*v) + " is not a " + datatype + " value for model " +
                               described);
      }
      data.push_back(*v);
    }
    json::array tensor_shape{n};
    if (shape.size() == 2) tensor_shape.push_back(1);
    tensors.push_back(json::object{{"name", name},
                                   {"datatype", datatype},
                                   {"shape", std::move(tensor_shape)},
                                   {"data", std::move(data)}});
  }
  for (int64_t r = 0; r < n; ++r) {
    for (const auto& field : rows[r].get_object()) {
      if (!input_names.contains(std::string(field.key()))) {
        return CannotConvert(model, "field '" + std::string(field.key()) + "' of row " +
                                        std::to_string(r) + " is not a model input");
      }
    }
  }
  return ToJson(json::object{{"inputs", std::move(tensors)}});
}

StatusOr<Workload> BuildWorkload(std::string_view input_text, const WorkloadSpec& spec,
                                 const std::function<StatusOr<json::value>()>& fetch_metadata) {
  boost::system::error_code ec;
  json::value input = json::parse(input_text, ec);
  if (ec) {
    return InvalidArgument("the input is not valid JSON: " + DescribeJsonError(input_text, ec));
  }
  const bool oip_body = IsOipRequest(input);

  Workload w;
  w.protocol = spec.protocol;
  if (w.protocol == PerfProtocol::kAuto) {
    w.protocol = oip_body ? PerfProtocol::kOip : PerfProtocol::kClassic;
  }
  if (w.protocol == PerfProtocol::kClassic) {
    if (oip_body) {
      return InvalidArgument(
          "the input is an OIP request body (it has \"inputs\"); use --protocol oip, or give "
          "named features for --protocol classic");
    }
    if (!spec.model_version.empty()) {
      return InvalidArgument(
          "--model-version needs --protocol oip (the classic API serves one version per model)");
    }
    ASSIGN_OR_RETURN(json::array rows, RowsOf(input));
    w.rows_per_request = static_cast<int64_t>(rows.size());
    w.target = spec.model.empty() ? "/predict" : "/v1/models/" + UrlEncode(spec.model) + "/predict";
    w.body = std::string(input_text);
    return w;
  }

  if (spec.model.empty()) return InvalidArgument("--protocol oip needs --model");
  w.target = "/v2/models/" + UrlEncode(spec.model) +
             (spec.model_version.empty() ? "" : "/versions/" + UrlEncode(spec.model_version)) +
             "/infer";
  if (oip_body) {
    w.rows_per_request = OipRows(input.get_object());
    w.body = std::string(input_text);
    return w;
  }
  ASSIGN_OR_RETURN(json::array rows, RowsOf(input));
  ASSIGN_OR_RETURN(json::value metadata, fetch_metadata());
  ASSIGN_OR_RETURN(w.body, OipBodyFromNamedRows(input, metadata, spec.model));
  w.rows_per_request = static_cast<int64_t>(rows.size());
  w.converted = true;
  return w;
}

}  // namespace mast
