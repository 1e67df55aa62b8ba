// The wall time of each phase of a long piece of work, in the order the phases ran: `netlab up
// --timings` prints them, and the benchmark sets netlab's beside the kernel floor's, so anyone
// can see in which phase a regression lands.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace netlab {

struct PhaseTiming {
  std::string phase;
  double seconds = 0;
};

class PhaseTimings {
 public:
  PhaseTimings() : phaseStart_(Clock::now()) {}

  // Ends the phase that began at the last call (or at construction), naming it.
  void phaseDone(std::string phase);

  const std::vector<PhaseTiming>& phases() const { return phases_; }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point phaseStart_;
  std::vector<PhaseTiming> phases_;
};

}  // namespace netlab
