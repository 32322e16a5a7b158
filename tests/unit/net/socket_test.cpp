// What the socket layer says when a connect fails.
#include "net/socket.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace net {
namespace {

TEST(ConnectError, OutOfFileDescriptorsSaysTheBrokerWasNotTried) {
    for (const int error : {EMFILE, ENFILE}) {
        const std::string text = describe_connect_error(error);
        EXPECT_NE(text.find("not tried: this process is out of file descriptors"),
                  std::string::npos)
            << text;
        EXPECT_EQ(text.find("unreachable"), std::string::npos) << text;
    }
    EXPECT_NE(describe_connect_error(ECONNREFUSED).find("connection refused"), std::string::npos);
}
}  // namespace
}  // namespace net
