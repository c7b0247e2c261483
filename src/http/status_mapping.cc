#include "http/status_mapping.h"

#include <algorithm>

#include "common/json_writer.h"
#include "common/log.h"

namespace liaison::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kNotAcceptable:
      return 406;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnsupportedMediaType:
      return 415;
    case StatusCode::kFailedPrecondition:
      return 422;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kOk:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string_view ReasonPhrase(int http_status) {
  switch (http_status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Error";
}

std::string TaxiiErrorBody(int http_status, std::string_view title, std::string_view description) {
  // TAXII 2.1 section 3.6.1: title is required; http_status is a string.
  JsonWriter w;
  w.BeginObject();
  w.Key("title");
  w.String(title);
  if (!description.empty()) {
    w.Key("description");
    w.String(description);
  }
  w.Key("http_status");
  w.String(std::to_string(http_status));
  w.EndObject();
  return std::move(w).Take();
}

taxii::Response ErrorResponseWithHttpStatus(int http_status, std::string_view description) {
  taxii::Response response;
  response.status = http_status;
  response.content_type = taxii::kTaxiiMediaType;
  response.body = TaxiiErrorBody(http_status, ReasonPhrase(http_status), description);
  if (http_status == 401) response.headers.emplace_back("WWW-Authenticate", kWwwAuthenticate);
  return response;
}

taxii::Response ErrorResponse(const Status& status, std::string_view context) {
  const int http_status = HttpStatusFor(status.code());
  if (http_status == 500) {
    // Internal details (SQL errors, file paths) are for the operator's log, not for clients.
    LOG_ERROR("{}{}{}", context, context.empty() ? "" : ": ", status.ToString());
    return ErrorResponseWithHttpStatus(
        500, "the hub could not complete the request; the operator's log has the details");
  }
  return ErrorResponseWithHttpStatus(http_status, status.message());
}

taxii::Response RateLimitedResponse(std::string_view description, int64_t retry_after_seconds) {
  taxii::Response response = ErrorResponseWithHttpStatus(429, description);
  response.headers.emplace_back("Retry-After",
                                std::to_string(std::max<int64_t>(1, retry_after_seconds)));
  return response;
}

}  // namespace liaison::http
