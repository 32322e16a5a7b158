#include "telemetry/run_summary.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "telemetry/payload.hpp"

namespace telemetry {

using nlohmann::json;

// Written in the order docs/reference.md documents (type first): ordered_json keeps insertion
// order, where json would sort the keys. Found by the golden tests of the documented form.
std::string encode_run_summary(const RunSummary& s) {
    nlohmann::ordered_json devices = nlohmann::ordered_json::array();
    for (const DeviceSummary& d : s.devices) {
        nlohmann::ordered_json entry = {
            {"dev", d.device}, {"count", d.count}, {"last_seq", d.last_seq}};
        if (!d.transport.empty()) entry["via"] = d.transport;
        if (!d.topic.empty()) entry["topic"] = d.topic;
        devices.push_back(std::move(entry));
    }
    nlohmann::ordered_json doc = {{"type", "run_summary"},
                                  {"v", kSchemaVersion},
                                  {"run", s.run},
                                  {"qos", s.qos},
                                  {"published", s.published},
                                  {"confirmed", s.confirmed},
                                  {"interrupted", s.interrupted}};
    if (s.shards > 1) doc["shard"] = {s.shard, s.shards};
    if (s.behind_schedule_ms > 0) doc["behind_schedule_ms"] = s.behind_schedule_ms;
    doc["devices"] = std::move(devices);
    return doc.dump();
}

namespace {

// FNV-1a, 64-bit, over each value's bytes; strings end with their length, so that field
// boundaries cannot shift.
class Fnv1a {
  public:
    void add(std::string_view bytes) {
        for (const char c : bytes) mix(static_cast<unsigned char>(c));
        add(std::uint64_t{bytes.size()});
    }
    void add(std::uint64_t value) {
        for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(value >> (8 * i)));
    }
    std::uint64_t value() const { return hash_; }

  private:
    void mix(unsigned char byte) { hash_ = (hash_ ^ byte) * 0x100000001b3ULL; }
    std::uint64_t hash_{0xcbf29ce484222325ULL};
};

}  // namespace

std::uint64_t claim_digest(const RunSummary& s) {
    Fnv1a h;
    h.add(s.run);
    for (const std::uint64_t v :
         {std::uint64_t(s.qos), s.published, s.confirmed, std::uint64_t{s.interrupted},
          std::uint64_t{s.shard}, std::uint64_t{s.shards}, std::uint64_t{s.devices.size()}})
        h.add(v);
    for (const DeviceSummary& d : s.devices) {
        h.add(d.device);
        h.add(d.count);
        h.add(d.last_seq);
        h.add(d.topic);
    }
    return h.value();
}

namespace {
// nlohmann converts -1 to a huge unsigned number without complaint; counts must be checked.
std::uint64_t count_field(const json& obj, const char* name) {
    const json& v = obj.at(name);
    if (!v.is_number_unsigned())
        throw std::invalid_argument(std::string("\"") + name + "\" must be an unsigned integer");
    return v.get<std::uint64_t>();
}
// The "type" field, or "" when it is absent or not a string (value() would throw on a number:
// found by fuzz/control_decode_fuzz).
std::string type_of(const json& doc) {
    const auto it = doc.find("type");
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}
// The optional "shard":[I,N] of summaries and progress messages into `shard`/`shards`; an
// error text when it is there but not 1 <= I <= N <= 65535.
std::optional<std::string> read_shard(const json& doc, std::uint32_t& shard,
                                      std::uint32_t& shards) {
    const auto it = doc.find("shard");
    if (it == doc.end()) return std::nullopt;
    if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number_unsigned() ||
        !(*it)[1].is_number_unsigned())
        return std::string("\"shard\" must be [I, N]");
    const auto i = (*it)[0].get<std::uint64_t>(), n = (*it)[1].get<std::uint64_t>();
    if (i < 1 || i > n || n > 65535)
        return std::string("\"shard\" must be [I, N] with 1 <= I <= N <= 65535");
    shard = static_cast<std::uint32_t>(i);
    shards = static_cast<std::uint32_t>(n);
    return std::nullopt;
}
}  // namespace

namespace {

// The "devices" list as it is parsed: each entry is taken out of the document as soon as it is
// complete, so a summary naming a million devices never becomes a million-node DOM (that cost
// about 21x the message; now the entries cost what they hold).
class DeviceCollector {
  public:
    // nlohmann's parser callback: false drops the element just parsed from the document.
    bool operator()(int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1) in_devices_ = parsed == "devices";
        if (event != json::parse_event_t::object_end || depth != 2 || !in_devices_) return true;
        if (error_.empty()) take(parsed);
        return false;
    }
    std::vector<DeviceSummary> devices() { return std::move(devices_); }
    const std::string& error() const { return error_; }

  private:
    void take(const json& d) {
        try {
            DeviceSummary ds{d.at("dev").get<std::string>(),
                             count_field(d, "count"),
                             count_field(d, "last_seq"),
                             {},
                             {}};
            if (!is_plain_identifier(ds.device)) error_ = "run summary has an invalid device id";
            if (const auto via = d.find("via"); via != d.end()) {
                ds.transport = via->get<std::string>();
                if (!is_plain_identifier(ds.transport))
                    error_ = "run summary has an invalid transport (\"via\")";
            }
            if (const auto topic = d.find("topic"); topic != d.end()) {
                ds.topic = topic->get<std::string>();
                if (ds.topic.empty() ||
                    ds.topic.find_first_of(std::string_view("+#\0", 3)) != std::string::npos)
                    error_ = "run summary has an invalid topic name";
            }
            devices_.push_back(std::move(ds));
        } catch (const std::exception& e) {
            error_ = std::string("run summary field error: ") + e.what();
        }
    }

    bool in_devices_{false};
    std::vector<DeviceSummary> devices_;
    std::string error_;
};

}  // namespace

DecodedRunSummary decode_run_summary(std::string_view payload) {
    const auto fail = [](std::string reason) {
        return DecodedRunSummary{std::nullopt, std::move(reason)};
    };
    DeviceCollector collector;
    const json doc = json::parse(
        payload,
        [&collector](int depth, json::parse_event_t event, json& parsed) {
            return collector(depth, event, parsed);
        },
        /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return fail("run summary is not a JSON object");
    if (type_of(doc) != "run_summary") return fail("run summary lacks \"type\":\"run_summary\"");
    try {
        RunSummary s;
        s.run = doc.at("run").get<std::string>();
        if (!is_plain_identifier(s.run)) return fail("run summary has an invalid \"run\"");
        s.qos = doc.at("qos").get<int>();
        s.published = count_field(doc, "published");
        s.confirmed = count_field(doc, "confirmed");
        s.interrupted = doc.value("interrupted", false);
        s.behind_schedule_ms = doc.value("behind_schedule_ms", 0.0);
        if (!(s.behind_schedule_ms >= 0))
            return fail("run summary has an invalid \"behind_schedule_ms\"");
        if (auto bad = read_shard(doc, s.shard, s.shards)) return fail("run summary's " + *bad);
        // Objects were taken out as parsed; anything left in the list is not a device.
        const json& left = doc.at("devices");
        if (!left.is_array() || !left.empty())
            return fail("run summary's \"devices\" must be a list of objects");
        if (!collector.error().empty()) return fail(collector.error());
        s.devices = collector.devices();
        return {std::move(s), {}};
    } catch (const json::exception& e) {
        return fail(std::string("run summary field error: ") + e.what());
    } catch (const std::invalid_argument& e) {
        return fail(std::string("run summary field error: ") + e.what());
    }
}

std::string encode_run_progress(const RunProgress& p) {
    nlohmann::ordered_json doc{{"type", "run_progress"},
                               {"v", kSchemaVersion},
                               {"run", p.run},
                               {"published", p.published},
                               {"confirmed", p.confirmed}};
    if (p.shards > 1) doc["shard"] = {p.shard, p.shards};
    return doc.dump();
}

std::optional<RunProgress> decode_run_progress(std::string_view payload) {
    const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || type_of(doc) != "run_progress")
        return std::nullopt;
    try {
        RunProgress p{doc.at("run").get<std::string>(), count_field(doc, "published"),
                      count_field(doc, "confirmed")};
        if (!is_plain_identifier(p.run)) return std::nullopt;
        if (read_shard(doc, p.shard, p.shards)) return std::nullopt;
        return p;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace telemetry
