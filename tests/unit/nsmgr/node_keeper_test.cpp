#include "nsmgr/node_keeper.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace netlab::nsmgr {
namespace {

TEST(NodeKeeper, RecordsRoundTripEveryKindOfEnd) {
  for (const InitExit& exit : {InitExit{3, std::nullopt, false}, InitExit{0, std::nullopt, false},
                               InitExit{std::nullopt, SIGKILL, false},
                               InitExit{std::nullopt, SIGSEGV, true}, InitExit{}}) {
    EXPECT_EQ(initExitFromRecord(toRecord(exit)), exit) << toRecord(exit);
  }
  EXPECT_THROW(initExitFromRecord("code"), Error);
  EXPECT_THROW(initExitFromRecord("signal x"), Error);
  EXPECT_THROW(initExitFromRecord(""), Error);
}

// A real child's end each way, as waitid tells the keeper.
InitExit endOfAChildThat(void (*end)()) {
  pid_t child = ::fork();
  if (child == 0) end();
  siginfo_t info{};
  EXPECT_EQ(::waitid(P_PID, child, &info, WEXITED), 0);
  return initExitOf(info);
}

TEST(NodeKeeper, DescribesAnEndAsAShellUserReadsIt) {
  EXPECT_EQ(describe(endOfAChildThat([] { ::_exit(3); })), "exit status 3");
  EXPECT_EQ(describe(endOfAChildThat([] { ::raise(SIGKILL); })), "killed by SIGKILL");
  EXPECT_EQ(describe(InitExit{std::nullopt, SIGSEGV, true}), "killed by SIGSEGV (core dumped)");
  EXPECT_EQ(describe(InitExit{}), "status unknown");
}

}  // namespace
}  // namespace netlab::nsmgr
