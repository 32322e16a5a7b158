#include "app/payload_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "telemetry/payload_template.hpp"
#include "telemetry/structured_body.hpp"

namespace app {
namespace {

namespace fs = std::filesystem;
using telemetry::PayloadFormat;

// All the bytes --payload-file may hold in memory: the files are sent from there.
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{256} << 20;

// The longest device id of the run: its prefix and at least four digits (sim::device_id).
std::size_t longest_device_id(const PublisherOptions& p) {
    const auto length = [](const std::string& prefix, std::uint64_t devices) {
        return prefix.size() + std::max<std::size_t>(4, fmt::formatted_size("{}", devices));
    };
    if (p.groups.empty()) return length(p.device_prefix, p.devices);
    std::size_t longest = 0;
    for (const DeviceGroup& g : p.groups)
        longest = std::max(longest, length(g.id_prefix, g.devices));
    return longest;
}

std::optional<std::string> read_whole(const fs::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    if (!(in && bytes << in.rdbuf()) && fs::file_size(path) != 0)
        return fmt::format("--payload-file {}: cannot read it", path.string());
    out = std::move(bytes).str();
    return std::nullopt;
}

// The file, or the regular files of a directory in name order; their bytes into `files`.
std::optional<std::string> load_files(const std::string& spec, std::vector<std::string>& files) {
    std::error_code ec;
    std::vector<fs::path> paths;
    if (fs::is_directory(spec, ec)) {
        for (const auto& entry : fs::directory_iterator(spec, ec))
            if (entry.is_regular_file()) paths.push_back(entry.path());
        std::sort(paths.begin(), paths.end());
        if (paths.empty()) return fmt::format("--payload-file {}: no files in it", spec);
    } else if (fs::is_regular_file(spec, ec)) {
        paths.push_back(spec);
    } else {
        return fmt::format("--payload-file {}: no such file or directory", spec);
    }
    std::uintmax_t total = 0;
    for (const fs::path& path : paths) {
        const std::uintmax_t size = fs::file_size(path, ec);
        if (ec) return fmt::format("--payload-file {}: cannot read it", path.string());
        if (size > telemetry::kMaxPayloadSize)
            return fmt::format("--payload-file {}: {} bytes, above the 16M a payload may have",
                               path.string(), size);
        if ((total += size) > kMaxFileBytes)
            return fmt::format("--payload-file {}: more than 256M in all", spec);
        if (auto problem = read_whole(path, files.emplace_back())) return problem;
    }
    return std::nullopt;
}

// A template's text (TEXT, or @FILE read) into `spec`, checked; `flag` names it in problems.
std::optional<std::string> load_template(const std::string& given, const std::string& flag,
                                         telemetry::PayloadSpec& spec) {
    std::string& text = spec.template_text;
    text = given;
    if (text.starts_with('@')) {
        const fs::path path = text.substr(1);
        if (!fs::is_regular_file(path) || read_whole(path, text))
            return fmt::format("{} {}: cannot read the file", flag, given);
    }
    auto compiled = telemetry::PayloadTemplate::compile(text);
    if (const auto* problem = std::get_if<std::string>(&compiled)) return flag + ": " + *problem;
    return std::nullopt;
}

// The body's source: a template or files imply their format, and only theirs.
std::optional<std::string> apply_sources(PublisherOptions& p, const CLI::App& cli) {
    const bool format_given = cli.count("--payload-format") > 0;
    const auto source = [&](bool given, PayloadFormat format,
                            const char* flag) -> std::optional<std::string> {
        if (given && !format_given) p.payload.format = format;
        if (given && p.payload.format != format)
            return fmt::format("{} needs --payload-format {}", flag,
                               telemetry::format_name(format));
        if (!given && p.payload.format == format)
            return fmt::format("--payload-format {} needs {}", telemetry::format_name(format),
                               flag);
        return std::nullopt;
    };
    if (auto e = source(!p.payload_template.empty(), PayloadFormat::Template, "--payload-template"))
        return e;
    if (auto e = source(!p.payload_file.empty(), PayloadFormat::File, "--payload-file")) return e;
    if (p.payload.format == PayloadFormat::Template)
        return load_template(p.payload_template, "--payload-template", p.payload);
    if (p.payload.format != PayloadFormat::File) return std::nullopt;
    auto files = std::make_shared<std::vector<std::string>>();
    if (auto problem = load_files(p.payload_file, *files)) return problem;
    p.payload.files = std::move(files);
    return std::nullopt;
}

std::optional<std::string> check_envelope(const PublisherOptions& p,
                                          const telemetry::PayloadSpec& spec) {
    if (spec.envelope != telemetry::Envelope::Properties) return std::nullopt;
    if (spec.format == PayloadFormat::Json)
        return std::string(
            "--envelope properties: a JSON reading carries its own fields; use another "
            "--payload-format");
    if (p.connect.version == mqtt::ProtocolVersion::V311)
        return std::string("--envelope properties needs MQTT 5 (user properties); -V 311 has none");
    return std::nullopt;
}

// `text` (N or N..M) into `spec`, large enough for the longest ids; `flag` names it.
std::optional<std::string> apply_size(const std::string& text, const std::string& flag,
                                      std::size_t run_id, std::size_t device_id,
                                      telemetry::PayloadSpec& spec) {
    if (spec.format == PayloadFormat::Template || spec.format == PayloadFormat::File)
        return fmt::format("{}: a {}'s body sets its own size", flag,
                           telemetry::format_name(spec.format));
    auto parsed = telemetry::parse_payload_size(text);
    if (auto* problem = std::get_if<std::string>(&parsed)) return *problem;
    spec.size = std::get<telemetry::PayloadSize>(parsed);
    const std::size_t smallest =
        telemetry::smallest_payload(spec.format, run_id, device_id, spec.envelope);
    if (spec.size.min >= smallest) return std::nullopt;
    const bool json = spec.format == PayloadFormat::Json;
    const bool reading = json || telemetry::structured_kind(spec.format).has_value();
    return fmt::format(
        "{} {}: a {} payload of this run needs at least {} bytes (its run and device ids{}){}",
        flag, text, telemetry::format_name(spec.format), smallest,
        reading ? " and its widest reading" : "",
        json ? "; --payload-format random or binary go down to about 50" : "");
}

// A profile group's payload_* keys over the flags' payload: its own spec, checked.
std::optional<std::string> apply_group(const PublisherOptions& p, std::size_t run_id,
                                       DeviceGroup& g) {
    if (!g.payload_format && !g.payload_size && !g.payload_template) return std::nullopt;
    telemetry::PayloadSpec spec = p.payload;
    if (g.payload_format) spec.format = *telemetry::parse_payload_format(*g.payload_format);
    if (g.payload_template && !g.payload_format) spec.format = PayloadFormat::Template;
    if (spec.format == PayloadFormat::Template) {
        if (!g.payload_template && spec.template_text.empty())
            return std::string("payload_format template needs payload_template");
        if (g.payload_template)
            if (auto e = load_template(*g.payload_template, "payload_template", spec)) return e;
    } else if (g.payload_template) {
        return std::string("payload_template needs payload_format template");
    }
    if (spec.format == PayloadFormat::File && !spec.files)
        return std::string("payload_format file needs --payload-file");
    if (auto e = check_envelope(p, spec)) return e;
    if (g.payload_size) {
        const std::size_t device_id =
            g.id_prefix.size() + std::max<std::size_t>(4, fmt::formatted_size("{}", g.devices));
        if (auto e = apply_size(*g.payload_size, "payload_size", run_id, device_id, spec)) return e;
    } else if (spec.format == PayloadFormat::Template) {
        spec.size = {};  // the flags' size is not the template's
    }
    g.payload = std::move(spec);
    return std::nullopt;
}

}  // namespace

void add_payload_flags(CLI::App& cli, PublisherOptions& o) {
    cli.add_option_function<std::string>(
           "--payload-format",
           [&o](const std::string& name) {
               o.payload.format = *telemetry::parse_payload_format(name);
           },
           "What each message carries (docs/reference.md, \"Other formats and sizes\"): json "
           "(the schema v1 reading), binary (the reading packed), random (random bytes), "
           "template (--payload-template), file (--payload-file), or the reading as protobuf "
           "(reading.proto), cbor or msgpack")
        ->default_str("json")
        ->check(CLI::IsMember(
            {"json", "binary", "random", "template", "file", "protobuf", "cbor", "msgpack"}));
    cli.add_option_function<std::string>(
           "--envelope",
           [&o](const std::string& name) {
               o.payload.envelope = name == "properties" ? telemetry::Envelope::Properties
                                                         : telemetry::Envelope::Payload;
           },
           "Where the ledger's fields (run, device, seq, time, checksum) travel with a body other "
           "than json: payload (the binary envelope around the body) or properties (MQTT 5 user "
           "properties; the body stays untouched)")
        ->default_str("payload")
        ->check(CLI::IsMember({"payload", "properties"}));
    cli.add_option("--payload-size", o.payload_size_text,
                   "Bytes per message: N, or N..M drawn per message from --seed; k/K (1,024) and "
                   "M (1,048,576) suffixes; up to 16M (default: the format's own size)");
    cli.add_option("--payload-template", o.payload_template,
                   "The body of each message, TEXT or @FILE, with fields filled per message: "
                   "${device} ${seq} ${ts} ${ts_ms} ${run} ${temp} ${hum} ${pres} ${batt} "
                   "${rand_int} ${rand_int:A:B} ${rand_float} ${rand_float:A:B} ${rand_hex:N}; "
                   "$${ for a literal ${ (sets --payload-format template)");
    cli.add_option("--payload-file", o.payload_file,
                   "The body of each message from a FILE, or from the files of a DIRECTORY in "
                   "name order, each device sending them in turn (sets --payload-format file)");
}

std::optional<std::string> validate_payload(PublisherOptions& p, const CLI::App& cli) {
    if (auto e = apply_sources(p, cli)) return e;
    if (auto e = check_envelope(p, p.payload)) return e;
    const std::size_t run_id = p.run_id.empty() ? 8 : p.run_id.size();  // random: 8 hex digits
    if (!p.payload_size_text.empty())
        if (auto e = apply_size(p.payload_size_text, "--payload-size", run_id, longest_device_id(p),
                                p.payload))
            return e;
    for (DeviceGroup& g : p.groups)
        if (auto e = apply_group(p, run_id, g))
            return fmt::format("--profile group {}: {}", g.name, *e);
    return std::nullopt;
}

}  // namespace app
