#include "base/phase_timings.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace netlab {
namespace {

TEST(PhaseTimings, EachPhaseRunsFromTheEndOfThePreviousOne) {
  PhaseTimings timings;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  timings.phaseDone("first");
  timings.phaseDone("second");
  ASSERT_EQ(timings.phases().size(), 2u);
  EXPECT_EQ(timings.phases()[0].phase, "first");
  EXPECT_EQ(timings.phases()[1].phase, "second");
  // The sleep is the first phase's, not the second's: each starts where the last one ended.
  EXPECT_GE(timings.phases()[0].seconds, 0.02);
  EXPECT_GE(timings.phases()[1].seconds, 0.0);
  EXPECT_LT(timings.phases()[1].seconds, timings.phases()[0].seconds);
}

}  // namespace
}  // namespace netlab
