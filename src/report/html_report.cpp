#include "report/html_report.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <initializer_list>
#include <utility>
#include <vector>

#include "report/merge.hpp"
#include "report/model.hpp"

namespace report {
namespace {

using nlohmann::json;

std::string escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string grouped(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string ms(double us) {
    const double v = us / 1000;
    return fmt::format("{:.{}f} ms", v, v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

// A "nice" axis step (1, 2 or 5 times a power of ten) for about `ticks` ticks up to `max`.
double nice_step(double max, int ticks) {
    if (max <= 0) return 1;
    const double raw = max / ticks;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (raw <= m * p) return m * p;
    return 10 * p;
}

struct Series {
    std::string name;
    std::string color;
    std::vector<std::pair<double, double>> points;  // (x, y)
};

// The legend sits in the top margin, above the plot, so it never hides a line.
constexpr int kWidth = 760, kHeight = 290, kLeft = 70, kRight = 20, kTop = 34, kBottom = 45;

std::string line_chart(const std::string& id, const std::string& y_label,
                       const std::vector<Series>& series) {
    double max_x = 1, max_y = 0;
    for (const Series& s : series)
        for (const auto& [x, y] : s.points) {
            max_x = std::max(max_x, x);
            max_y = std::max(max_y, y);
        }
    const double step_y = nice_step(max_y, 5);
    max_y = std::max(step_y, std::ceil(max_y / step_y) * step_y);
    const double step_x = nice_step(max_x, 8);
    const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
    const auto px = [&](double x) { return kLeft + x / max_x * pw; };
    const auto py = [&](double y) { return kTop + ph - y / max_y * ph; };

    std::string svg = fmt::format(
        R"~(<svg id="{}" class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">)~", id,
        kWidth, kHeight, escape(y_label));
    for (double y = 0; y <= max_y + step_y / 2; y += step_y)
        svg += fmt::format(
            R"~(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid"/><text x="{}" y="{:.1f}" class="tick" text-anchor="end">{}</text>)~",
            kLeft, kWidth - kRight, py(y), py(y), kLeft - 6, py(y) + 4,
            y >= 1000 ? grouped(static_cast<std::uint64_t>(y)) : fmt::format("{:g}", y));
    for (double x = 0; x <= max_x + step_x / 2; x += step_x)
        svg += fmt::format(
            R"~(<text x="{:.1f}" y="{}" class="tick" text-anchor="middle">{:g}</text>)~", px(x),
            kHeight - kBottom + 16, x);
    svg += fmt::format(
        R"~(<text x="{}" y="{}" class="axis" text-anchor="middle">seconds since start</text>)~",
        kLeft + pw / 2, kHeight - 8);
    svg += fmt::format(
        R"~(<text x="14" y="{}" class="axis" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>)~",
        kTop + ph / 2, kTop + ph / 2, escape(y_label));
    int legend_x = kLeft + 10;
    for (const Series& s : series) {
        std::string pts;
        for (const auto& [x, y] : s.points) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
        svg += fmt::format(R"~(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)~",
                           pts, s.color);
        svg += fmt::format(
            R"~(<rect x="{}" y="{}" width="12" height="3" fill="{}"/><text x="{}" y="{}" class="legend">{}</text>)~",
            legend_x, 10, s.color, legend_x + 16, 14, escape(s.name));
        legend_x += 26 + static_cast<int>(s.name.size()) * 7;
    }
    return svg + "</svg>";
}

std::string histogram_chart(const std::vector<std::array<std::int64_t, 3>>& buckets) {
    // Bars on a logarithmic latency axis: each bucket from its lower to its upper bound.
    double lo = 1e18, hi = 1;
    std::uint64_t top = 1;
    for (const auto& [from, to, n] : buckets) {
        lo = std::min(lo, std::max(1.0, static_cast<double>(from)));
        hi = std::max(hi, static_cast<double>(to) + 1);
        top = std::max(top, static_cast<std::uint64_t>(n));
    }
    if (buckets.empty()) lo = 1;
    const double l0 = std::floor(std::log10(lo)), l1 = std::max(l0 + 1, std::ceil(std::log10(hi)));
    const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
    const auto px = [&](double v) {
        return kLeft + (std::log10(std::max(v, 1.0)) - l0) / (l1 - l0) * pw;
    };
    std::string svg = fmt::format(
        R"~(<svg id="latency-histogram" class="chart" viewBox="0 0 {} {}" role="img" aria-label="latency histogram">)~",
        kWidth, kHeight);
    for (double e = l0; e <= l1; ++e) {
        const double v = std::pow(10.0, e);
        svg += fmt::format(
            R"~(<line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" class="grid"/><text x="{:.1f}" y="{}" class="tick" text-anchor="middle">{}</text>)~",
            px(v), px(v), kTop, kTop + ph, px(v), kHeight - kBottom + 16, ms(v));
    }
    for (const auto& [from, to, n] : buckets) {
        const double x0 = px(static_cast<double>(from)),
                     x1 = std::max(x0 + 1.0, px(static_cast<double>(to) + 1));
        const double h = static_cast<double>(n) / static_cast<double>(top) * ph;
        svg += fmt::format(
            R"~(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"><title>{}–{} µs: {}</title></rect>)~",
            x0, kTop + ph - h, x1 - x0, h, from, to, grouped(static_cast<std::uint64_t>(n)));
    }
    svg += fmt::format(
        R"~(<text x="{}" y="{}" class="axis" text-anchor="middle">end-to-end latency (log scale); bar height = messages</text>)~",
        kLeft + pw / 2, kHeight - 8);
    return svg + "</svg>";
}

// One column of a report's timeline: (t, value × scale) for every row that has it.
std::vector<std::pair<double, double>> column(const json& timeline, const char* key,
                                              double scale = 1.0) {
    std::vector<std::pair<double, double>> pts;
    if (!timeline.is_array()) return pts;
    for (const json& row : timeline)
        if (row.contains(key) && row[key].is_number())
            pts.emplace_back(row.value("t", 0.0), row[key].get<double>() * scale);
    return pts;
}

}  // namespace

namespace {

// Per device: how many were complete or lost messages, their online/offline state from the
// status topic, and the slowest by p99.
constexpr double kSketchError = 0.06;  // the per-device latency sketch's relative error

std::string devices_section(const SubscriberReport& sub) {
    const DeviceCounts& d = sub.devices;
    std::string html = fmt::format(
        "<h2>Devices</h2><table id=\"devices\"><tr><th>known</th><th>seen</th><th>complete</th>"
        "<th>with loss</th></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>\n",
        grouped(d.known), grouped(d.seen), grouped(d.complete), grouped(d.with_loss));
    // A status topic nobody published on (the default filter, no --status-topic run): nothing
    // to show.
    if (const auto& status = sub.device_status; status && status->changes > 0) {
        html += fmt::format(
            "<p id=\"device-status\">Status on <code>{}</code>: {} online, {} offline ({} "
            "changes seen).",
            escape(status->topic), grouped(status->online), grouped(status->offline),
            grouped(status->changes));
        if (!status->offline_devices.empty()) {
            html += " Offline:";
            for (const std::string& device : status->offline_devices) html += " " + escape(device);
        }
        html += "</p>\n";
    }
    if (sub.slowest_devices.empty()) return html;
    std::vector<SlowDevice> slowest = sub.slowest_devices;
    std::sort(slowest.begin(), slowest.end(), [](const SlowDevice& a, const SlowDevice& b) {
        return a.p99_us != b.p99_us ? a.p99_us > b.p99_us : a.device < b.device;
    });
    // Per-device p99s come from a sketch with ~6% error: a spread within it ranks nothing.
    if (static_cast<double>(slowest.front().p99_us) <=
        static_cast<double>(slowest.back().p99_us) * (1 + kSketchError))
        return html +
               "<p id=\"slowest-devices\">No device is measurably slower than the others: "
               "their p99s lie within the sketch's ~6% resolution.</p>\n";
    html +=
        "<h3>Slowest devices</h3><table id=\"slowest-devices\"><tr><th>device</th><th>p99</th>"
        "<th>max</th><th>messages</th></tr>";
    for (const SlowDevice& s : slowest)
        html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(s.device), ms(static_cast<double>(s.p99_us)),
                            ms(static_cast<double>(s.max_us)), grouped(s.messages));
    return html + "</table>\n";
}

// Each publisher shard's latency: in a cluster the shards' messages take other paths (a bridge,
// another node), and a slow path shows as one slow shard.
std::string shards_section(const std::vector<ShardLatency>& shards) {
    if (shards.empty()) return "";
    std::string html =
        "<h3>Latency by publisher shard</h3><table id=\"latency-by-shard\"><tr><th>run</th>"
        "<th>shard</th><th>p99</th><th>max</th><th>messages</th></tr>";
    for (const ShardLatency& s : shards)
        html +=
            fmt::format("<tr><td>{}</td><td>{} of {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(s.run), s.shard, s.shards, ms(static_cast<double>(s.p99_us)),
                        ms(static_cast<double>(s.max_us)), grouped(s.messages));
    return html + "</table>\n";
}

std::string transports_section(const std::vector<TransportLatency>& transports) {
    if (transports.size() < 2) return "";  // one transport: the run's own figures say it all
    std::string html =
        "<h3>By transport</h3><table id=\"latency-by-transport\"><tr><th>transport</th>"
        "<th>devices</th><th>messages</th><th>msg/s</th><th>p50</th><th>p99</th><th>max</th>"
        "</tr>";
    for (const TransportLatency& t : transports)
        html += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "</tr>",
            escape(t.transport), grouped(t.devices), grouped(t.messages),
            grouped(static_cast<std::uint64_t>(t.msgs_per_sec)), ms(static_cast<double>(t.p50_us)),
            ms(static_cast<double>(t.p99_us)), ms(static_cast<double>(t.max_us)));
    return html + "</table>\n";
}

std::string member_rows(const std::vector<Member>& members, bool is_pub) {
    std::string html;
    for (const Member& m : members) {
        std::string part;
        if (m.shard) part = fmt::format("shard {} of {}", (*m.shard)[0], (*m.shard)[1]);
        if (m.share_group) part = "share group " + *m.share_group;
        const std::string messages = is_pub ? grouped(m.confirmed.value_or(0)) + " confirmed"
                                            : grouped(m.received.value_or(0)) + " received";
        html += fmt::format(
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(m.report), is_pub ? "publisher" : "subscriber", escape(part), messages,
            escape(m.end_reason), m.exit_status);
    }
    return html;
}

// A merged report (mqtt_report with several inputs): one row per process it merged.
std::string members_section(const PublisherReport* pub, const SubscriberReport* sub) {
    std::string rows;
    if (pub != nullptr) rows += member_rows(pub->members, true);
    if (sub != nullptr) rows += member_rows(sub->members, false);
    if (rows.empty()) return rows;
    return "<h2>Merged reports</h2><table id=\"members\"><tr><th>report</th><th>program"
           "</th><th>part</th><th>messages</th><th>end</th><th>exit</th></tr>" +
           rows + "</table>\n";
}

// A fan-out's consumers, each with its own verdict.
std::string consumers_section(const std::vector<Consumer>& consumers,
                              std::optional<double> amplification) {
    if (consumers.empty()) return "";
    std::string html = fmt::format(
        "<h2>Consumers (fan-out: each must receive every message)</h2><p>Amplification: {:.2f} "
        "deliveries per published message.</p><table id=\"consumers\"><tr><th>reports</th>"
        "<th>rule</th><th>unique</th><th>expected</th><th>missing</th><th>p99</th><th>verdict</th>"
        "</tr>",
        amplification.value_or(0.0));
    for (const Consumer& c : consumers)
        html += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "</tr>",
            escape(c.reports), escape(c.rule), grouped(c.unique), grouped(c.expected),
            grouped(c.missing), ms(static_cast<double>(c.p99_us)),
            c.verified
                ? "complete"
                : escape(c.failed_checks.empty() ? "not verified" : c.failed_checks.front()));
    return html + "</table>\n";
}

constexpr const char* kStyle = R"~(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>MQTT telemetry run report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:820px;color:#222}
h1{font-size:1.25em;padding:.6em .8em;border-radius:6px}
h1.pass{background:#e3f5e1;border-left:6px solid #2e7d32}
h1.fail{background:#fdecea;border-left:6px solid #c62828}
h2{font-size:1.05em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.92em}td,th{padding:.25em .8em;text-align:right;border-bottom:1px solid #ddd}
th{text-align:left}
dl#run{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;font-size:.92em}
dt{font-weight:600}dd{margin:0}
.chart{width:100%;height:auto;background:#fafafa;border:1px solid #e0e0e0}
.grid{stroke:#e0e0e0}.tick{font-size:11px;fill:#555}.axis{font-size:12px;fill:#333}.legend{font-size:12px;fill:#333}
.bar{fill:#1565c0}
ul.failed{color:#c62828}
</style></head><body>
)~";

double us(std::int64_t v) {
    return static_cast<double>(v);
}

// The commands' part of the top line.
std::string commands_line(const CommanderReport& c) {
    return fmt::format(
        "{} commands · {} answered · {} lost · {} executed twice · round trip p99 {}",
        grouped(c.sent), grouped(c.answered), grouped(c.lost), grouped(c.executed_twice),
        ms(us(c.round_trip_us.p99)));
}

// The one line at the top: the verdict and the run's counts.
std::string verdict_section(const PublisherReport* pub, const SubscriberReport* sub,
                            const CommanderReport* cmd) {
    if (pub == nullptr && sub == nullptr) {
        return fmt::format(
                   R"~(<h1 id="verdict" class="{}">{} — {}</h1>)~", cmd->verified ? "pass" : "fail",
                   cmd->verified ? "VERIFIED" : "NOT VERIFIED", escape(commands_line(*cmd))) +
               "\n";
    }
    const bool verified = verdict(pub, sub).verified() && (cmd == nullptr || cmd->verified);
    // A share-group member cannot know what is missing: the other members have it.
    const bool share = sub != nullptr && sub->sharing();
    std::string line = fmt::format("{} sent", grouped(pub ? pub->published : sub->expected));
    if (pub) line += fmt::format(" · {} confirmed", grouped(pub->confirmed));
    if (sub) {
        const std::string missing = share ? "share of group " + *sub->share_group
                                          : grouped(sub->missing.value_or(0)) + " missing";
        line += fmt::format(" · {} received · {} · {} duplicates", grouped(sub->unique), missing,
                            grouped(sub->duplicates));
        if (sub->corrupt + sub->malformed > 0)
            line += fmt::format(" · {} corrupt · {} malformed", grouped(sub->corrupt),
                                grouped(sub->malformed));
        line += " · p99 " + ms(us(sub->latency_us.p99));
    }
    if (cmd) line += " · " + commands_line(*cmd);
    const char* word = verified ? (share ? "SHARE VERIFIED" : "VERIFIED")
                                : (share ? "SHARE NOT VERIFIED" : "NOT VERIFIED");
    std::string html = fmt::format(R"~(<h1 id="verdict" class="{}">{} — {}</h1>)~",
                                   verified ? "pass" : "fail", word, escape(line));
    html += "\n";
    if (sub && !sub->failed_checks.empty()) {
        html += R"~(<ul class="failed" id="failed-checks">)~";
        for (const std::string& f : sub->failed_checks) html += "<li>" + escape(f) + "</li>";
        html += "</ul>\n";
    }
    return html;
}

// What ran, where and when: the run ids, the earliest start (UTC), the hosts and the command
// lines, the merged members' included.
struct RunHead {
    std::vector<std::string> runs, hosts, commands;
    double started_epoch_s{0};

    void add(const std::string& host, const std::string& command, double started) {
        if (!host.empty() && std::find(hosts.begin(), hosts.end(), host) == hosts.end())
            hosts.push_back(host);
        if (!command.empty()) commands.push_back(command);
        if (started > 0 && (started_epoch_s == 0 || started < started_epoch_s))
            started_epoch_s = started;
    }
    template <class Report>
    void add(const Report& r) {
        add(r.host, r.command, r.started_epoch_s);
        for (const Member& m : r.members) add(m.host, m.command, 0);
    }
};

std::string utc_time(double epoch_s) {
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC",
                       fmt::gmtime(static_cast<std::time_t>(std::floor(epoch_s))));
}

std::string run_section(const PublisherReport* pub, const SubscriberReport* sub) {
    RunHead head;
    if (pub) {
        head.add(*pub);
        if (!pub->run.empty()) head.runs.push_back(pub->run);
    }
    if (sub) {
        head.add(*sub);
        if (!pub) head.runs = sub->summaries;
    }
    std::string html = R"~(<dl id="run">)~";
    const auto item = [&html](const char* name, const std::string& value) {
        if (!value.empty()) html += "<dt>" + std::string(name) + "</dt><dd>" + value + "</dd>";
    };
    const auto listed = [](const std::vector<std::string>& values) {
        std::string text;
        for (const std::string& v : values) text += (text.empty() ? "" : ", ") + escape(v);
        return text;
    };
    item(head.runs.size() > 1 ? "Runs" : "Run", listed(head.runs));
    item("Started", head.started_epoch_s > 0 ? utc_time(head.started_epoch_s) : "");
    item(head.hosts.size() > 1 ? "Hosts" : "Host", listed(head.hosts));
    std::string commands;
    for (const std::string& c : head.commands) commands += "<code>" + escape(c) + "</code><br>";
    item(head.commands.size() > 1 ? "Commands" : "Command", commands);
    return html + "</dl>\n";
}

std::string figures_section(const PublisherReport* pub, const SubscriberReport* sub) {
    std::string html = "<h2>Figures</h2><table id=\"figures\">";
    const auto row = [&](const std::string& name, const std::string& value) {
        html += "<tr><th>" + escape(name) + "</th><td>" + escape(value) + "</td></tr>";
    };
    if (pub) {
        row("published", grouped(pub->published));
        row("confirmed by the broker", grouped(pub->confirmed));
        if (pub->no_subscribers > 0)
            row("confirmed with no subscriber at the broker (0x10)", grouped(pub->no_subscribers));
        row("publisher msg/s", grouped(static_cast<std::uint64_t>(pub->msgs_per_sec)));
        if (pub->puback_latency_us.count > 0)
            row(pub->qos == 2 ? "PUBCOMP latency p50 / p99" : "PUBACK latency p50 / p99",
                ms(us(pub->puback_latency_us.p50)) + " / " + ms(us(pub->puback_latency_us.p99)));
    }
    if (sub) {
        for (const auto& [name, n] : std::initializer_list<std::pair<const char*, std::uint64_t>>{
                 {"received", sub->received},
                 {"unique", sub->unique},
                 {"expected", sub->expected},
                 {"missing", sub->missing.value_or(0)},
                 {"duplicates", sub->duplicates},
                 {"out of order", sub->out_of_order},
                 {"malformed", sub->malformed},
                 {"corrupt", sub->corrupt}})
            row(name, grouped(n));
        row("subscriber msg/s", grouped(static_cast<std::uint64_t>(sub->msgs_per_sec)));
        row("end reason", sub->end_reason);
    }
    return html + "</table>\n";
}

std::string charts_section(const PublisherReport* pub, const SubscriberReport* sub) {
    std::vector<Series> throughput;
    if (pub)
        throughput.push_back(
            {"publisher: confirmed msg/s", "#ef6c00", column(pub->timeline, "msgs_per_sec")});
    if (sub)
        throughput.push_back(
            {"subscriber: received msg/s", "#1565c0", column(sub->timeline, "msgs_per_sec")});
    std::string html = "<h2>Throughput over time</h2>" +
                       line_chart("throughput-chart", "messages per second", throughput) + "\n";
    std::vector<Series> lat;
    if (sub) {
        lat.push_back({"end-to-end p50", "#2e7d32", column(sub->timeline, "p50_us", 0.001)});
        lat.push_back({"end-to-end p99", "#c62828", column(sub->timeline, "p99_us", 0.001)});
    }
    if (pub)
        lat.push_back({"PUBACK p99", "#ef6c00", column(pub->timeline, "puback_p99_us", 0.001)});
    if (pub && pub->schedule_lag.paced)
        lat.push_back({"publisher behind schedule", "#6d4c41",
                       column(pub->timeline, "schedule_lag_us", 0.001)});
    html += "<h2>Latency over time</h2>" + line_chart("latency-chart", "milliseconds", lat) + "\n";
    if (pub)
        html += "<h2>In-flight window over time</h2>" +
                line_chart("window-chart", "messages",
                           {{"window", "#6a1b9a", column(pub->timeline, "window")},
                            {"in flight", "#ef6c00", column(pub->timeline, "in_flight")}}) +
                "\n";
    return html;
}

std::string latency_section(const Latency& latency) {
    const std::pair<const char*, std::int64_t> columns[] = {
        {"min", latency.min}, {"p50", latency.p50},     {"p90", latency.p90},
        {"p99", latency.p99}, {"p99.9", latency.p99_9}, {"p99.99", latency.p99_99},
        {"max", latency.max}};
    std::string html = "<h2>End-to-end latency</h2><table id=\"percentiles\"><tr>";
    for (const auto& [name, value] : columns) html += fmt::format("<th>{}</th>", name);
    html += "</tr><tr>";
    for (const auto& [name, value] : columns) html += "<td>" + ms(us(value)) + "</td>";
    html += "</tr></table>\n";
    return html + histogram_chart(latency.buckets) + "\n";
}

std::string gaps_section(const std::vector<Gap>& gaps) {
    if (gaps.empty())
        return "<h2>First gaps</h2><p id=\"gaps\">No gaps: every expected sequence number "
               "arrived.</p>\n";
    std::string html =
        "<h2>First gaps</h2><table id=\"gaps\"><tr><th>run</th><th>device</th><th>first</th>"
        "<th>last</th><th>count</th></tr>";
    for (const Gap& g : gaps)
        html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(g.run), escape(g.device), grouped(g.first), grouped(g.last),
                            grouped(g.count));
    return html + "</table>\n";
}

// The command ledger: its counts and failed checks, the round trip and its legs, over time.
std::string commands_section(const CommanderReport& c) {
    std::string html = "<h2>Commands</h2>";
    if (!c.failed_checks.empty()) {
        html += R"~(<ul class="failed" id="command-failed-checks">)~";
        for (const std::string& f : c.failed_checks) html += "<li>" + escape(f) + "</li>";
        html += "</ul>";
    }
    html += R"~(<table id="commands">)~";
    for (const auto& [name, n] : std::initializer_list<std::pair<const char*, std::uint64_t>>{
             {"sent", c.sent},
             {"delivered", c.delivered},
             {"answered", c.answered},
             {"failed", c.failed},
             {"answered late", c.answered_late},
             {"lost", c.lost},
             {"executed twice", c.executed_twice},
             {"out of order", c.out_of_order}})
        html += fmt::format("<tr><th>{}</th><td>{}</td></tr>", name, grouped(n));
    html +=
        "</table>\n<h2>Command latency</h2><table id=\"command-latency\"><tr><th></th>"
        "<th>p50</th><th>p99</th><th>max</th></tr>";
    for (const auto& [name, l] : std::initializer_list<std::pair<const char*, const Latency*>>{
             {"round trip", &c.round_trip_us},
             {"to the device", &c.to_device_us},
             {"the device's work", &c.device_work_us},
             {"back from the device", &c.from_device_us}})
        html += fmt::format("<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>", name,
                            ms(us(l->p50)), ms(us(l->p99)), ms(us(l->max)));
    html += "</table>\n" + histogram_chart(c.round_trip_us.buckets) + "\n";
    html += "<h2>Commands over time</h2>" +
            line_chart(
                "command-chart", "milliseconds",
                {{"round trip p50", "#2e7d32", column(c.timeline, "round_trip_p50_us", 0.001)},
                 {"round trip p99", "#c62828", column(c.timeline, "round_trip_p99_us", 0.001)}}) +
            line_chart("command-rate-chart", "answers per second",
                       {{"answers/s", "#1565c0", column(c.timeline, "msgs_per_sec")}}) +
            "\n";
    return html;
}

}  // namespace

std::string render_html(const PublisherReport* pub, const SubscriberReport* sub,
                        const CommanderReport* cmd) {
    if (pub == nullptr && sub == nullptr && cmd == nullptr) return {};
    std::string html = kStyle;
    html += verdict_section(pub, sub, cmd);
    if (cmd) html += commands_section(*cmd);
    if (pub == nullptr && sub == nullptr) return html + "</body></html>\n";
    html += run_section(pub, sub);
    html += figures_section(pub, sub);
    html += charts_section(pub, sub);
    if (sub)
        html += latency_section(sub->latency_us) + shards_section(sub->latency_by_shard) +
                transports_section(sub->latency_by_transport) + gaps_section(sub->gaps) +
                devices_section(*sub);
    if (sub) html += consumers_section(sub->consumers, sub->amplification);
    html += members_section(pub, sub);
    html += "</body></html>\n";
    return html;
}

}  // namespace report
