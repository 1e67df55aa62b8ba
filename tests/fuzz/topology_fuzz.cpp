// libFuzzer target: any bytes as a topology document. Loading must never crash, hang, throw
// or hit an internal error; a plan that loads must survive the JSON round trip and render.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "topo/graph.hpp"
#include "topo/load.hpp"
#include "topo/plan_json.hpp"
#include "topo/plan_table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace netlab::topo;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult result = loadTopologyText(text, "/nonexistent/fuzz.json");
  for (const Diagnostic& diagnostic : result.diagnostics) {
    // loadTopologyText turns exceptions into this message: for fuzzed input it is a bug.
    if (diagnostic.message.starts_with("internal error")) __builtin_trap();
    static_cast<void>(formatDiagnostic(diagnostic, "fuzz.json"));
  }
  if (result.plan) {
    if (planFromJson(planToJson(*result.plan)) != *result.plan) __builtin_trap();
    static_cast<void>(renderDot(*result.plan));
    static_cast<void>(renderMermaid(*result.plan));
    static_cast<void>(renderPlanTable(*result.plan));
  }
  return 0;
}
