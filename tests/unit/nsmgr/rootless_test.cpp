#include "nsmgr/rootless.hpp"

#include <gtest/gtest.h>

namespace netlab::nsmgr {
namespace {

TEST(SubordinateRange, TheFirstLineNamingTheUserByNameOrNumber) {
  constexpr const char* kSubuid =
      "bob:100000:65536\n"
      "alice:165536:65536\n"
      "alice:300000:10\n"
      "1001:231072:65536\n";
  EXPECT_EQ(findSubordinateRange(kSubuid, "alice", 1000), (topo::IdRange{165536, 65536}));
  EXPECT_EQ(findSubordinateRange(kSubuid, "carol", 1001), (topo::IdRange{231072, 65536}));
  EXPECT_EQ(findSubordinateRange(kSubuid, "dave", 1002), std::nullopt);
}

TEST(SubordinateRange, MalformedOrEmptyLinesAreSkipped) {
  constexpr const char* kSubuid =
      "\n"
      "alice\n"
      "alice:100000\n"
      "alice:x:65536\n"
      "alice:100000:0\n"
      "alice:100000:65536junk\n"
      "alice:200000:5";  // the last line needs no newline
  EXPECT_EQ(findSubordinateRange(kSubuid, "alice", 1000), (topo::IdRange{200000, 5}));
  EXPECT_EQ(findSubordinateRange("", "alice", 1000), std::nullopt);
}

TEST(IdMap, IdsMappedFromZeroContiguously) {
  EXPECT_EQ(idsMappedFromZero("         0       1000          1\n"), 1u);
  EXPECT_EQ(idsMappedFromZero("         0       1000          1\n"
                              "         1    3000000      65536\n"),
            65537u);
  EXPECT_EQ(idsMappedFromZero("0 0 4294967295\n"), 4294967295u);
  EXPECT_EQ(idsMappedFromZero("1 100000 10\n"), 0u);  // nothing at 0
  EXPECT_EQ(idsMappedFromZero(""), 0u);
}

}  // namespace
}  // namespace netlab::nsmgr
