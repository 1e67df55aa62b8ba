#include "topo/impairment_json.hpp"

namespace netlab::topo {

nlohmann::ordered_json impairmentToJson(const Impairment& impairment) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  auto put = [&](const char* key, const auto& value) {
    if (value) json[key] = *value;
  };
  put("delay_us", impairment.delayUs);
  put("jitter_us", impairment.jitterUs);
  put("jitter_correlation_percent", impairment.jitterCorrelationPercent);
  put("loss_percent", impairment.lossPercent);
  put("corrupt_percent", impairment.corruptPercent);
  put("duplicate_percent", impairment.duplicatePercent);
  put("reorder_percent", impairment.reorderPercent);
  put("rate_bps", impairment.rateBitsPerSecond);
  put("limit_packets", impairment.limitPackets);
  return json;
}

}  // namespace netlab::topo
