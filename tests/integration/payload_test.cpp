// Payloads the user chooses (--payload-format, --payload-size), verified message by message as
// the default JSON is: every format at several sizes, damaged and truncated bodies counted,
// and a producer written from docs/reference.md alone.
#include <fmt/format.h>

#include <fstream>

#include "pair.hpp"
#include "telemetry/payload_encoder.hpp"

namespace harness {
namespace {

void expect_sized(const PairResult& r, std::uint64_t n, const std::string& what) {
    SCOPED_TRACE(what);
    expect_verified(r, n);
    EXPECT_EQ(r.subscriber.value("malformed", 1u), 0u);
    EXPECT_EQ(r.subscriber.value("corrupt", 1u), 0u);
}

TEST(Payloads, EachFormatIsVerifiedAtOneAndFourKilobytesAndOverARange) {
    Broker broker;
    for (const std::string format : {"json", "binary", "random", "protobuf", "cbor", "msgpack"})
        for (const std::string size : {"1k", "4K", "300..4000"}) {
            TempDir dir;
            const auto r = run_pair(
                broker, dir,
                {"-n", "2000", "-d", "10", "--payload-format", format, "--payload-size", size}, {});
            expect_sized(r, 2000, format + " " + size);
        }
}

TEST(Payloads, QuarterMegabyteMessagesAreVerified) {
    Broker broker;
    for (const std::string format : {"json", "binary", "random", "protobuf", "cbor", "msgpack"}) {
        TempDir dir;
        const auto r = run_pair(
            broker, dir, {"-n", "200", "--payload-format", format, "--payload-size", "256k"}, {});
        expect_sized(r, 200, format);
    }
}

TEST(Payloads, TheSmallestEnvelopesAreVerifiedAndSmallerSizesRefusedByName) {
    Broker broker;
    TempDir dir;
    // Run id "tiny" (4) and device ids "sensor-0001" (11): 30 + 15 = 45 bytes.
    const auto r = run_pair(
        broker, dir,
        {"-n", "5000", "--run-id", "tiny", "--payload-format", "random", "--payload-size", "45"},
        {});
    expect_sized(r, 5000, "45 bytes");
    const auto refused = run({publisher_path(), "-p", broker.port_str(), "--run-id", "tiny",
                              "--payload-format", "random", "--payload-size", "44"},
                             dir.path());
    EXPECT_EQ(refused.status, 2);
    EXPECT_NE(refused.err.find("--payload-size 44: a random payload of this run needs at least "
                               "45 bytes"),
              std::string::npos)
        << refused.err;
}

// Messages from an independent client: a body byte damaged after the checksum was computed is
// corrupt, a message cut short malformed; the intact ones are delivered.
TEST(Payloads, ADamagedBodyByteIsCorruptATruncatedEnvelopeMalformed) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {"-C", "2", "--idle-timeout", "5"});
    telemetry::PayloadEncoder encoder(
        telemetry::PayloadSpec{telemetry::PayloadFormat::Random, {2000, 2000}});
    std::vector<std::string> payloads;
    for (std::uint64_t seq = 1; seq <= 4; ++seq) {
        std::string out;
        encoder.encode({"forged", "dev-1", seq, 1764102213123456, 0, 0, 0, 0}, out);
        payloads.push_back(out);
    }
    // The damaged two first: the subscriber ends (-C 2) on the intact two.
    payloads[0][1500] = static_cast<char>(payloads[0][1500] ^ 0x01);  // one bit of the body
    payloads[1].resize(1000);                                         // cut short
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        const fs::path file = dir / fmt::format("m{}", i);
        std::ofstream(file, std::ios::binary) << payloads[i];
        ASSERT_EQ(run({"mosquitto_pub", "-p", broker.port_str(), "-q", "1", "-t",
                       "sensors/dev-1/telemetry", "-f", file.string()},
                      dir.path())
                      .status,
                  0);
    }
    EXPECT_EQ(sub->wait(60s), 1) << read_file(dir / "sub.out");
    const auto rep = read_json(dir / "sub.json");
    EXPECT_EQ(rep.at("received"), 2);
    EXPECT_EQ(rep.at("corrupt"), 1);
    EXPECT_EQ(rep.at("malformed"), 1);
    EXPECT_NE(rep.at("corrupt_examples")[0].get<std::string>().find("checksum mismatch"),
              std::string::npos);
}

// tests/interop/envelope_producer.py: Python's struct and zlib and mosquitto_pub, from
// docs/reference.md alone; the envelope in the payload, then as user properties.
TEST(Payloads, AProducerWrittenFromTheDocsAloneIsVerified) {
    Broker broker;
    for (const std::string carrier : {"payload", "properties"}) {
        SCOPED_TRACE(carrier);
        TempDir dir;
        const auto sub = start_subscriber(broker.port_str(), dir, {"--idle-timeout", "30"});
        const fs::path producer = project_dir() / "tests" / "interop" / "envelope_producer.py";
        std::vector<std::string> command{
            "/usr/bin/python3", producer.string(), broker.port_str(), "docs-" + carrier, "3", "4"};
        if (carrier == "properties") command.push_back("properties");
        const auto produced = run(command, dir.path());
        ASSERT_EQ(produced.status, 0) << produced.err;
        EXPECT_EQ(sub->wait(60s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
        const auto rep = read_json(dir / "sub.json");
        EXPECT_EQ(rep.at("unique"), 12);
        EXPECT_EQ(rep.at("malformed"), 0);
        EXPECT_EQ(rep.at("corrupt"), 0);
        EXPECT_NE(read_file(dir / "sub.out").find("VERIFIED: received 12, unique 12 of 12"),
                  std::string::npos)
            << read_file(dir / "sub.out");
    }
}

// --envelope properties: 16-byte bodies, the ledger's fields beside them; both engines send
// and receive them.
TEST(Payloads, SixteenByteBodiesBesideUserPropertiesAreVerified) {
    Broker broker;
    for (const std::string engine : {"native", "libmosquitto"}) {
        TempDir dir;
        const auto r = run_pair(
            broker, dir,
            {"-n", engine == "native" ? "20000" : "3000", "--client", engine, "--payload-format",
             "random", "--payload-size", "16", "--envelope", "properties"},
            {"--client", engine});
        expect_sized(r, engine == "native" ? 20000 : 3000, engine);
    }
    TempDir dir;
    const auto refused = run({publisher_path(), "-p", broker.port_str(), "-V", "311",
                              "--payload-format", "random", "--envelope", "properties"},
                             dir.path());
    EXPECT_EQ(refused.status, 2);
    EXPECT_NE(refused.err.find("--envelope properties needs MQTT 5"), std::string::npos)
        << refused.err;
}

// A device's own protobuf, CBOR or MessagePack reading left untouched: the ledger's fields
// beside it as user properties, the body decoded and checked against them.
TEST(Payloads, PipelineEncodingsAreVerifiedBesideUserProperties) {
    Broker broker;
    for (const std::string format : {"protobuf", "cbor", "msgpack"}) {
        TempDir dir;
        expect_sized(run_pair(broker, dir,
                              {"-n", "4000", "-d", "8", "--payload-format", format, "--envelope",
                               "properties", "--payload-size", "200..2000"},
                              {}),
                     4000, format);
    }
}

// Bodies users bring: a JSON template per message and the files of a directory, each in the
// binary envelope and beside user properties.
TEST(Payloads, TemplateAndFileBodiesAreVerifiedInBothEnvelopes) {
    Broker broker;
    TempDir files;
    std::ofstream(files / "a.bin", std::ios::binary) << std::string("chunk\0one", 9);
    std::ofstream(files / "b.bin", std::ios::binary) << std::string(70'000, 'z');
    const std::string templ = R"({"temperature":${temp},"device":"${device}","n":${rand_int:1:6}})";
    for (const std::string envelope : {"payload", "properties"}) {
        for (const auto& body : std::vector<std::vector<std::string>>{
                 {"--payload-template", templ}, {"--payload-file", files.path().string()}}) {
            TempDir dir;
            std::vector<std::string> args{"-n", "4000", "-d", "8", "--envelope", envelope};
            args.insert(args.end(), body.begin(), body.end());
            expect_sized(run_pair(broker, dir, args, {}), 4000, envelope + " " + body[0]);
        }
    }
    TempDir dir;
    const auto refused =
        run({publisher_path(), "-p", broker.port_str(), "--payload-template", "${temperature}"},
            dir.path());
    EXPECT_EQ(refused.status, 2);
    EXPECT_NE(refused.err.find("unknown field ${temperature}"), std::string::npos) << refused.err;
    const auto missing =
        run({publisher_path(), "-p", broker.port_str(), "--payload-file", (dir / "none").string()},
            dir.path());
    EXPECT_EQ(missing.status, 2);
    EXPECT_NE(missing.err.find("no such file or directory"), std::string::npos) << missing.err;
}

// A profile's groups, each with its own payload: small random frames, camera stills, a JSON
// template, and the flags' default JSON reading, all in one verified run.
TEST(Payloads, EachGroupOfAProfileSendsItsOwnPayload) {
    Broker broker;
    TempDir dir;
    std::ofstream(dir / "mixed.toml") << R"(duration = 2
[[group]]
name = "tiny"
devices = 20
interval_ms = 100
payload_format = "random"
payload_size = "64..128"
[[group]]
name = "camera"
devices = 2
interval_ms = 200
payload_format = "random"
payload_size = "100k"
[[group]]
name = "db"
devices = 5
interval_ms = 100
payload_template = '{"t":${temp},"d":"${device}"}'
[[group]]
name = "plain"
devices = 5
interval_ms = 100
)";
    const auto r = run_pair(broker, dir, {"--profile", (dir / "mixed.toml").string()}, {});
    EXPECT_EQ(r.publisher_status, 0) << r.publisher_err;
    EXPECT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    // 2 s: 20 x 20 + 2 x 10 + 5 x 20 + 5 x 20 readings.
    EXPECT_EQ(r.subscriber.value("unique", 0u), 620u);
    EXPECT_EQ(r.subscriber.value("malformed", 1u), 0u);
}

}  // namespace
}  // namespace harness
