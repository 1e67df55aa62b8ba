#include "base/phase_timings.hpp"

#include <utility>

namespace netlab {

void PhaseTimings::phaseDone(std::string phase) {
  const Clock::time_point now = Clock::now();
  phases_.push_back({std::move(phase), std::chrono::duration<double>(now - phaseStart_).count()});
  phaseStart_ = now;
}

}  // namespace netlab
