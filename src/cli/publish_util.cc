#include "cli/publish_util.h"

#include <algorithm>
#include <deque>
#include <thread>

namespace liaison::cli {

namespace {

constexpr std::string_view kEnvelopeHead = R"({"objects":[)";
constexpr std::string_view kEnvelopeTail = "]}";

bool Transient(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

std::string EnvelopeJson(const std::vector<PublishObject>& objects,
                         const std::vector<size_t>& indices) {
  std::string out;
  out.reserve(EnvelopeBytes(objects, indices));
  out += kEnvelopeHead;
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i > 0) out += ',';
    out += objects[indices[i]].json;
  }
  out += kEnvelopeTail;
  return out;
}

size_t EnvelopeBytes(const std::vector<PublishObject>& objects,
                     const std::vector<size_t>& indices) {
  size_t n = kEnvelopeHead.size() + kEnvelopeTail.size();
  for (size_t i = 0; i < indices.size(); ++i) n += objects[indices[i]].json.size() + (i > 0);
  return n;
}

std::vector<EnvelopeBatch> PackEnvelopes(const std::vector<PublishObject>& objects,
                                         size_t max_bytes, size_t max_objects,
                                         std::vector<size_t>* oversized) {
  const size_t overhead = kEnvelopeHead.size() + kEnvelopeTail.size();
  max_objects = std::max<size_t>(max_objects, 1);
  std::vector<EnvelopeBatch> batches;
  EnvelopeBatch current;
  size_t current_bytes = overhead;
  for (size_t i = 0; i < objects.size(); ++i) {
    size_t size = objects[i].json.size();
    if (overhead + size > max_bytes) {
      if (oversized) oversized->push_back(i);
      continue;
    }
    size_t added = size + (current.indices.empty() ? 0 : 1);
    if (!current.indices.empty() &&
        (current_bytes + added > max_bytes || current.indices.size() >= max_objects)) {
      batches.push_back(std::move(current));
      current = {};
      current_bytes = overhead;
      added = size;
    }
    current.indices.push_back(i);
    current_bytes += added;
  }
  if (!current.indices.empty()) batches.push_back(std::move(current));
  return batches;
}

PublishReport PublishObjects(federation::TaxiiClient& client, const std::string& api_root_url,
                             int64_t max_content_length, const std::vector<PublishObject>& objects,
                             const PublishOptions& options) {
  PublishReport report;
  auto sleep = options.sleep ? options.sleep
                             : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  size_t limit =
      max_content_length > 0 ? static_cast<size_t>(max_content_length) : kDefaultEnvelopeBytes;
  if (options.max_envelope_bytes > 0) limit = std::min(limit, options.max_envelope_bytes);

  std::vector<size_t> oversized;
  std::vector<EnvelopeBatch> packed =
      PackEnvelopes(objects, limit, options.max_objects_per_envelope, &oversized);
  for (size_t i : oversized) {
    ++report.failed;
    report.failures.push_back(
        {objects[i].id, objects[i].version,
         "not sent: the object alone (" + std::to_string(objects[i].json.size()) +
             " bytes) exceeds the server's envelope limit of " + std::to_string(limit) + " bytes"});
  }

  std::deque<EnvelopeBatch> queue(packed.begin(), packed.end());
  while (!queue.empty()) {
    EnvelopeBatch batch = std::move(queue.front());
    queue.pop_front();
    std::string body = EnvelopeJson(objects, batch.indices);

    Result<federation::StatusInfo> status = InternalError("not sent");
    std::chrono::milliseconds backoff = options.retry_backoff;
    for (int attempt = 1;; ++attempt) {
      status = client.AddObjects(api_root_url, options.collection_id, body);
      if (status.ok() || !Transient(status.status()) || attempt >= options.max_attempts) break;
      sleep(backoff);
      backoff *= 2;
    }

    if (!status.ok()) {
      // TAXII 2.1 section 5.5: 413 when the request exceeds max_content_length. The server's
      // real limit may be lower than advertised (a proxy in front): halve and retry.
      if (status.status().code() == StatusCode::kResourceExhausted) {
        if (batch.indices.size() > 1) {
          size_t half = batch.indices.size() / 2;
          EnvelopeBatch first, second;
          first.indices.assign(batch.indices.begin(), batch.indices.begin() + half);
          second.indices.assign(batch.indices.begin() + half, batch.indices.end());
          queue.push_front(std::move(second));
          queue.push_front(std::move(first));
        } else {
          const PublishObject& o = objects[batch.indices.front()];
          ++report.failed;
          report.failures.push_back({o.id, o.version, status.status().message()});
        }
        continue;
      }
      report.error = status.status();
      report.not_sent += static_cast<int64_t>(batch.indices.size());
      for (const EnvelopeBatch& rest : queue) {
        report.not_sent += static_cast<int64_t>(rest.indices.size());
      }
      return report;
    }

    // TAXII 2.1 section 4.3: a server may answer before it has processed everything; poll the
    // status resource until it is complete or our patience runs out.
    federation::StatusInfo info = std::move(status).value();
    std::chrono::milliseconds waited{0};
    std::chrono::milliseconds poll{500};
    while (info.status != "complete" && info.pending_count > 0 && waited < options.status_wait) {
      std::chrono::milliseconds step = std::min(poll, options.status_wait - waited);
      sleep(step);
      waited += step;
      poll = std::min(poll * 2, std::chrono::milliseconds(5000));
      Result<federation::StatusInfo> next = client.GetStatus(api_root_url, info.id);
      if (!next.ok()) {
        if (Transient(next.status())) continue;
        break;  // keep what the POST answered; its pendings are reported as such
      }
      info = std::move(next).value();
    }

    ++report.envelopes;
    report.succeeded += info.success_count;
    int64_t failures =
        std::max<int64_t>(info.failure_count, static_cast<int64_t>(info.failures.size()));
    report.failed += failures;
    for (const auto& f : info.failures) report.failures.push_back({f.id, f.version, f.message});
    int64_t pendings =
        info.status == "complete"
            ? 0
            : std::max<int64_t>(info.pending_count, static_cast<int64_t>(info.pendings.size()));
    report.pending += pendings;
    if (pendings > 0) {
      for (const auto& p : info.pendings) report.pendings.push_back({p.id, p.version, p.message});
    }
  }
  return report;
}

}  // namespace liaison::cli
