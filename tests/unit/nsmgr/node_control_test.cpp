// Which nodes `netlab node` acts on.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "nsmgr/node_control.hpp"

namespace netlab::nsmgr {
namespace {

const std::vector<std::string> kNodes = {"r1", "r2", "r10", "h1", "sw"};

TEST(MatchNodes, GlobsAndNamesInPlanOrderOnce) {
  EXPECT_EQ(matchNodes(kNodes, {"h1", "r?"}), (std::vector<std::string>{"r1", "r2", "h1"}));
  EXPECT_EQ(matchNodes(kNodes, {"r*", "r1"}), (std::vector<std::string>{"r1", "r2", "r10"}));
  EXPECT_EQ(matchNodes(kNodes, {"[hs]*"}), (std::vector<std::string>{"h1", "sw"}));
}

TEST(MatchNodes, APatternThatNamesNoNodeIsAnError) {
  try {
    matchNodes(kNodes, {"r1", "x*"});
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "no node matches `x*`");
  }
}

}  // namespace
}  // namespace netlab::nsmgr
