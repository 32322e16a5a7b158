// Knowing every message: corrupt and malformed payloads forged through a real broker are
// counted exactly and never delivered.
#include <signal.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "pair.hpp"
#include "telemetry/payload.hpp"

namespace harness {
namespace {

std::string valid_payload(std::uint64_t seq) {
    std::string out;
    telemetry::encode_reading({"forged", "dev-1", seq, 1764102213123456, 20.0, 50.0, 1000.0, 90.0},
                              out);
    return out;
}

void mosquitto_pub(const Broker& broker, const TempDir& dir, const std::string& payload) {
    // An independent client: these messages do not come from our code.
    ASSERT_EQ(run({"mosquitto_pub", "-p", broker.port_str(), "-q", "1", "-t",
                   "sensors/dev-1/telemetry", "-m", payload},
                  dir.path())
                  .status,
              0);
}

TEST(Integrity, CorruptAndMalformedPayloadsAreCountedExactlyAndNeverDelivered) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {"-C", "3", "--idle-timeout", "5"});

    std::string corrupt_seq = valid_payload(4);  // damaged content, original checksum
    corrupt_seq.replace(corrupt_seq.find("\"seq\":4"), 7, "\"seq\":5");
    std::string corrupt_value = valid_payload(6);
    corrupt_value.replace(corrupt_value.find("\"temp\":20.00"), 12, "\"temp\":29.00");
    std::string no_seq =
        "{\"v\":1,\"run\":\"forged\",\"dev\":\"dev-1\",\"ts\":5,\"temp\":1,\"hum\":1,\"pres\":1,"
        "\"batt\":1";
    no_seq += fmt::format(R"(,"crc":"{:08x}"}})", telemetry::payload_crc(no_seq));
    for (const std::string& p : {corrupt_seq, corrupt_value, std::string("not json"), no_seq,
                                 valid_payload(1), valid_payload(2), valid_payload(3)})
        mosquitto_pub(broker, dir, p);

    EXPECT_EQ(sub->wait(60s), 1) << read_file(dir / "sub.out");
    const auto rep = read_json(dir / "sub.json");
    EXPECT_EQ(rep.at("corrupt"), 2);
    EXPECT_EQ(rep.at("malformed"), 2);
    EXPECT_EQ(rep.at("received"), 3);
    EXPECT_EQ(rep.at("unique"), 3);
    EXPECT_EQ(rep.at("corrupt_examples").size(), 2u);
    EXPECT_NE(rep.at("corrupt_examples")[0].get<std::string>().find("checksum mismatch"),
              std::string::npos);
    EXPECT_NE(read_file(dir / "sub.out").find("failed: corrupt 2 > 0"), std::string::npos);
}
}  // namespace
}  // namespace harness
