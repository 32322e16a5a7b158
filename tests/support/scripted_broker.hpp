#pragma once
// Doubles for the session's unit tests (tests/unit/mqtt/protocol/session_test.cpp): a handler that
// records what the session reports, and a broker that decodes what the session wrote and feeds
// it encoded replies, all without a socket.

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "mqtt/protocol/codec.hpp"
#include "mqtt/protocol/session.hpp"

namespace testing_support {

using mqtt::protocol::Connack;
using mqtt::protocol::DecodeResult;
using mqtt::protocol::DecodeStatus;
using mqtt::protocol::Disconnect;
using mqtt::protocol::Packet;
using mqtt::protocol::Publish;
using mqtt::protocol::ReasonCode;
using mqtt::protocol::Session;
using mqtt::protocol::Suback;
using mqtt::protocol::Version;
using Clock = Session::Clock;

struct SessionRecorder : Session::Handler {
    std::vector<Connack> connacks;
    std::vector<std::string> messages;
    std::vector<std::pair<std::uint16_t, std::uint8_t>> confirmed;
    std::vector<Suback> subacks;
    void on_connack(const Connack& c) override { connacks.push_back(c); }
    void on_message(const Publish& p) override { messages.emplace_back(p.payload); }
    void on_confirmed(std::uint16_t id, ReasonCode reason, Clock::time_point) override {
        confirmed.emplace_back(id, code_of(reason));
    }
    void on_suback(const Suback& s) override { subacks.push_back(s); }
    void on_disconnect(const Disconnect&) override {}
};

// Plays the broker: decodes what the session wrote, and feeds it encoded replies.
class ScriptedBroker {
  public:
    explicit ScriptedBroker(Session& s, Version v = Version::V5) : session_(s), version_(v) {}

    std::vector<Packet> take_sent() {
        std::vector<Packet> packets;
        std::string& out = session_.outbox();
        std::string_view rest = out;
        while (!rest.empty()) {
            DecodeResult d = decode(rest, version_);
            EXPECT_EQ(d.status, DecodeStatus::Ok) << d.error;
            if (d.status != DecodeStatus::Ok) break;
            // Publish views point into the outbox: keep owned copies of the bytes.
            if (auto* p = std::get_if<Publish>(&d.packet)) {
                keep_.emplace_back(p->topic);
                p->topic = keep_.back();
                keep_.emplace_back(p->payload);
                p->payload = keep_.back();
            }
            packets.push_back(d.packet);
            rest.remove_prefix(d.consumed);
        }
        out.clear();
        return packets;
    }
    // Opens the connection, answers its CONNECT with `connack`, and clears what was sent.
    void connect(const Connack& connack = {}, Clock::time_point at = Clock::now()) {
        session_.connection_opened(at);
        reply(connack, at);
        take_sent();
    }
    Session::FeedResult reply(const Packet& p, Clock::time_point now = Clock::now()) {
        std::string bytes;
        encode(p, version_, bytes);
        return session_.feed(bytes, now);
    }

  private:
    Session& session_;
    Version version_;
    std::deque<std::string> keep_;
};

}  // namespace testing_support
